/** A channel's stream position: the offset of the last publication seen and the stream's epoch. */
export type {
  A2aAgentTaskState,
  A2aArtifactInput,
  A2aPartInput,
  A2aTaskRef,
  CapabilityInfo,
  CapabilitySpec,
  PairingCheckResult,
  ReceiptStatus,
  StreamPosition,
} from '@parley/protocol'
export { mcpToolCapability, mcpUpstreamToolName } from '@parley/protocol'
export { a2aArtifact, a2aStatus } from './a2a-task.js'
export {
  AgentCaller,
  type AgentCallerEvents,
  type AgentCallerOptions,
  type AgentClientEvents,
  type AgentRequestOptions,
  type AgentSendOptions,
  type AgentStreamOptions,
  type GrantEvent,
  type IntroduceOptions,
  type SignalEvent,
} from './agent-caller.js'
export {
  AgentClient,
  type AgentClientOptions,
  type Introduction,
  type IntroductionDecision,
  type IntroductionHandler,
  type RequestContext,
  type RequestHandler,
  type StreamContext,
  type StreamHandler,
} from './agent-client.js'
export {
  SharedState,
  type StateChangeEvent,
  type StateChangeStream,
  type StateEntry,
  type StateUpdateOptions,
  type StateVersionEntry,
  type StateWatchListener,
  type StateWriteOptions,
} from './agent-state.js'
export { AgentStream, StreamSink } from './agent-streams.js'
export { type BackoffOptions, fullJitterDelay } from './backoff.js'
export type { AckMode, DeliveryControls, NackOptions } from './deliveries.js'
export {
  AbortedError,
  AgentError,
  AgentUnavailableError,
  FlowControlError,
  IntroductionRejectedError,
  IntroductionRequiredError,
  NoRouteError,
  ParleyError,
  type ParleyErrorInit,
  PolicyDeniedError,
  RequestTimeoutError,
  TimeoutError,
  VersionConflictError,
} from './errors.js'
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
export type { McpCallToolResult, McpContentBlock } from './mcp-tools.js'
export { PollingSocket, type PollingSocketOptions, pollingBaseUrl } from './polling-socket.js'
export { PushClient } from './push-client.js'
export type {
  BroadcastMessage,
  BroadcastReceipt,
  CallOptions,
  ChannelMessage,
  ConnectionState,
  DeviceInfo,
  DeviceToken,
  DirectMessage,
  DisconnectInfo,
  Logger,
  PairingCheckOptions,
  PairingCheckReceipt,
  PairingOptions,
  PairingPendingInfo,
  PairingResolvedEvent,
  PresenceEvent,
  PresenceList,
  PresenceStatusReceipt,
  PublishOptions,
  PublishReceipt,
  PushClientEvent,
  PushClientEvents,
  PushClientOptions,
  ReceiptEvent,
  ReconnectingInfo,
  ReconnectOptions,
  SendOptions,
  SendReceipt,
  SessionResumedInfo,
  StateChange,
  SubscribedInfo,
  SubscribeOptions,
  SubscribeReceipt,
  UnsubscribeReceipt,
  WaitForOptions,
  WelcomeInfo,
} from './push-client-types.js'
export type { TransportChange, TransportName } from './transport-selector.js'
export { CLIENT_NAME, CLIENT_VERSION } from './version.js'
export type { CloseEventLike, MessageEventLike, WebSocketConstructor, WebSocketLike } from './websocket.js'
