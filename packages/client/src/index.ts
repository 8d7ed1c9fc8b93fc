export { type BackoffOptions, fullJitterDelay } from './backoff.js'
export { ParleyError, type ParleyErrorInit, TimeoutError } from './errors.js'
export {
  type BroadcastMessage,
  type BroadcastReceipt,
  type ChannelMessage,
  type ConnectionState,
  type DisconnectInfo,
  type Logger,
  type PublishReceipt,
  PushClient,
  type PushClientEvent,
  type PushClientEvents,
  type PushClientOptions,
  type ReconnectingInfo,
  type ReconnectOptions,
  type StateChange,
  type SubscribeReceipt,
  type UnsubscribeReceipt,
  type WaitForOptions,
  type WelcomeInfo,
} from './push-client.js'
export { CLIENT_NAME, CLIENT_VERSION } from './version.js'
export type { CloseEventLike, MessageEventLike, WebSocketConstructor, WebSocketLike } from './websocket.js'
