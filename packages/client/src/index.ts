/** A channel's stream position: the offset of the last publication seen and the stream's epoch. */
export type { PairingCheckResult, ReceiptStatus, StreamPosition } from '@parley/protocol'
export { type BackoffOptions, fullJitterDelay } from './backoff.js'
export type { AckMode, DeliveryControls, NackOptions } from './deliveries.js'
export { ParleyError, type ParleyErrorInit, TimeoutError } from './errors.js'
export {
  type AgentIdentity,
  CHALLENGE_CONTEXT,
  type ChallengeInput,
  challengeMessage,
  didKeyFromPublicKey,
  exportIdentity,
  generateIdentity,
  IDENTITY_FILE_VERSION,
  IdentityError,
  type IdentityErrorReason,
  type IdentityFile,
  type IdentityKeyOptions,
  importIdentity,
  publicKeyFromDidKey,
  type SignedChallenge,
  signChallenge,
  verifyChallenge,
} from './identity.js'
export { PollingSocket, type PollingSocketOptions, pollingBaseUrl } from './polling-socket.js'
export {
  type BroadcastMessage,
  type BroadcastReceipt,
  type ChannelMessage,
  type ConnectionState,
  type DeviceInfo,
  type DeviceToken,
  type DirectMessage,
  type DisconnectInfo,
  type Logger,
  type PairingCheckOptions,
  type PairingCheckReceipt,
  type PairingOptions,
  type PairingPendingInfo,
  type PairingResolvedEvent,
  type PublishOptions,
  type PublishReceipt,
  PushClient,
  type PushClientEvent,
  type PushClientEvents,
  type PushClientOptions,
  type ReceiptEvent,
  type ReconnectingInfo,
  type ReconnectOptions,
  type SendOptions,
  type SendReceipt,
  type StateChange,
  type SubscribedInfo,
  type SubscribeOptions,
  type SubscribeReceipt,
  type UnsubscribeReceipt,
  type WaitForOptions,
  type WelcomeInfo,
} from './push-client.js'
export type { TransportChange, TransportName } from './transport-selector.js'
export { CLIENT_NAME, CLIENT_VERSION } from './version.js'
export type { CloseEventLike, MessageEventLike, WebSocketConstructor, WebSocketLike } from './websocket.js'
