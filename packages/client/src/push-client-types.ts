// The public types of PushClient: its options, events and the shapes its methods resolve to.
import type {
  BroadcastMessageFrame,
  BroadcastResult,
  ChannelMessageFrame,
  DirectMessageFrame,
  PairingCheckResult,
  PairingResolvedFrame,
  PresenceFrame,
  PresenceListResult,
  PresenceSetResult,
  PublishResult,
  ReceiptFrame,
  SendResult,
  SessionResumedFrame,
  StreamPosition,
  UnsubscribeResult,
  WelcomeFrame,
} from '@parley/protocol'
import type { AckMode, DeliveryControls } from './deliveries.js'
import type { ParleyError } from './errors.js'
import type { AgentIdentity } from './identity.js'
import type { TransportChange } from './transport-selector.js'
import type { WebSocketConstructor } from './websocket.js'

/**
 * `disconnected` → `connecting` → `connected` (welcomed and every channel subscribed again: the `connect`
 * event), back to `connecting` while reconnecting, and `closed` once the client has stopped for good (after
 * `close()`, a refusing close code, or when reconnecting is off or used up).
 * `connect()` may start a new life from `disconnected` or `closed`.
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'closed'

/** What the gateway said in its `welcome`. */
export type WelcomeInfo = Omit<WelcomeFrame, 'type' | 'id'>
/**
 * A publication on a subscribed channel. `offset`/`epoch` give its place in the channel's stream. On a
 * durable subscription it is a delivery (`deliveryId`, `attempt`) that `ack()`/`nack()` settle; on any other
 * message they do nothing and return false. The methods are not enumerable: spreads and JSON keep the data.
 */
export type ChannelMessage = Omit<ChannelMessageFrame, 'type'> & {
  /** True when a recovering subscribe replayed it (it was published while this client was away). */
  replayed?: boolean
} & DeliveryControls
/** A direct message sent to this client with `send`; settle it with `ack()`/`nack()` (automatic by default). */
export type DirectMessage = Omit<DirectMessageFrame, 'type'> & DeliveryControls
/** A message broadcast to every connection. */
export type BroadcastMessage = Omit<BroadcastMessageFrame, 'type'>
/** Progress of a message this client sent with `send(..., { receipt: true })`. */
export type ReceiptEvent = Omit<ReceiptFrame, 'type'>
/** The gateway's answer to `publish`: the message id, its stream position and how many subscribers it reached. */
export type PublishReceipt = PublishResult
/** The gateway's answer to `send`: the message is stored and will be delivered at least once. */
export type SendReceipt = SendResult
/** The gateway's answer to `broadcast`. */
export type BroadcastReceipt = BroadcastResult
export type UnsubscribeReceipt = UnsubscribeResult
/** What the gateway answers a connector's `pairingCheck`: allowed, denied, or pending with a code for the sender. */
export type PairingCheckReceipt = PairingCheckResult
/** A chat sender's pairing was decided (approved, denied, revoked or expired): sent to every connector. */
export type PairingResolvedEvent = Omit<PairingResolvedFrame, 'type'>
/** A client joined, left or changed status on a subscribed channel (the `presence` event). */
export type PresenceEvent = Omit<PresenceFrame, 'type'>
/** Who is online (`getPresence`, the `presence_list` event). */
export type PresenceList = PresenceListResult
/** What `setStatus` stored. */
export type PresenceStatusReceipt = PresenceSetResult
/**
 * The gateway resumed the previous session (the `session_resumed` event): the channels it restored itself
 * and where each continues from, and how many frames buffered while away were replayed before it.
 */
export type SessionResumedInfo = Omit<SessionResumedFrame, 'type'>

/** How a device without credentials introduces itself to the operator who approves it. */
export interface DeviceInfo {
  /** Shown to the operator, e.g. "kitchen tablet" (1-100 characters). */
  name: string
  /** e.g. "android", "ios", "linux" (up to 100 characters). */
  platform?: string
}

export interface PairingOptions {
  device: DeviceInfo
}

/** The device pairing request is waiting for the operator (the `pairing_pending` event). */
export interface PairingPendingInfo {
  requestId: string
  /** When the gateway drops the request if nobody decided it, epoch ms. */
  expiresAt: number
}

/**
 * The operator approved this device (the `device_token` event). `token` is shown once: store it and pass it
 * as `authToken` from then on. The client already uses it for its own reconnects.
 */
export interface DeviceToken {
  token: string
  deviceId: string
  requestId: string
}

export interface PairingCheckOptions {
  /** The sender's name as the chat shows it, for the operator who approves the request. */
  displayName?: string
}

/** The outcome of a subscribe, the user's or the client's own after a reconnect (the `subscribed` event). */
export interface SubscribedInfo {
  channel: string
  /** A `since` position was sent: the client asked the gateway for what it missed. */
  wasRecovering: boolean
  /**
   * Every publication after `since` was replayed (as `channel_message` events with `replayed: true`, before
   * this). False with `wasRecovering` means messages were lost: resynchronise by other means.
   */
  recovered: boolean
  /** How many publications were replayed. */
  replayed: number
  /** The stream position the subscription continues from, when the gateway tracks one. */
  offset?: number
  epoch?: string
  durable: boolean
}
export type SubscribeReceipt = SubscribedInfo

export interface SubscribeOptions {
  /**
   * Resume after this position (one you kept from `positionOf` or a message): the gateway replays what was
   * published since, or answers `recovered: false`. Automatic resubscribes send the last seen position.
   */
  since?: StreamPosition
  /**
   * Let the gateway keep the subscription while this client is offline and deliver every publication at
   * least once, acknowledged. Needs a stable `clientId` option.
   */
  durable?: boolean
}

export interface PublishOptions {
  /** Makes retries safe: a publish repeating a recent key (per channel) is not stored or delivered again. */
  idempotencyKey?: string
}

export interface SendOptions {
  /** Makes retries safe: a send repeating a recent key (per sender and recipient) is not stored again. */
  idempotencyKey?: string
  /** Ask for `receipt` events as the message is delivered, acknowledged, dead-lettered or expires. */
  receipt?: boolean
}

export interface DisconnectInfo {
  code: number
  reason: string
  willReconnect: boolean
}

export interface ReconnectingInfo {
  /** 1 for the first retry after a loss; starts over once a connection stayed up for `resetAfterMs`. */
  attempt: number
  delayMs: number
}

export interface StateChange {
  from: ConnectionState
  to: ConnectionState
}

export interface PushClientEvents {
  /** Listeners may return a promise: a delivery is acknowledged once every listener's promise resolved. */
  channel_message: ChannelMessage
  /** Listeners may return a promise, as for `channel_message`. */
  direct_message: DirectMessage
  broadcast_message: BroadcastMessage
  receipt: ReceiptEvent
  /**
   * Each subscribe that succeeded, automatic resubscribes included, with the recovery outcome; also each
   * channel a resumed session restored (after `session_resumed`).
   */
  subscribed: SubscribedInfo
  /** Each time a connection is ready: welcomed and every channel subscribed again. */
  connect: WelcomeInfo
  /** Each time a connected socket goes away. */
  disconnect: DisconnectInfo
  /** Before each reconnect attempt, with the delay about to be waited. */
  reconnecting: ReconnectingInfo
  error: ParleyError
  state: StateChange
  /** Device pairing: the request waits for the operator; `connect()` keeps waiting. */
  pairing_pending: PairingPendingInfo
  /** Device pairing: approved. Store the token; it is shown once. */
  device_token: DeviceToken
  /** Connectors: a chat sender's pairing was decided. */
  pairing_resolved: PairingResolvedEvent
  /** The transport of the connection attempts changed (WebSocket ⇄ HTTP long-polling). */
  transport_change: TransportChange
  /** Presence changes on subscribed channels (join, leave, update). */
  presence: PresenceEvent
  /** Each answer to `getPresence`. */
  presence_list: PresenceList
  /** A reconnect resumed the session: its channels were restored by the gateway (before `connect`). */
  session_resumed: SessionResumedInfo
}

export type PushClientEvent = keyof PushClientEvents

/** Pino-compatible: context object first, message second. Every method is optional. */
export interface Logger {
  debug?(context: Record<string, unknown>, message: string): void
  info?(context: Record<string, unknown>, message: string): void
  warn?(context: Record<string, unknown>, message: string): void
  error?(context: Record<string, unknown>, message: string): void
}

export interface ReconnectOptions {
  /** Upper bound of the first retry's random delay. Default 500. */
  initialDelayMs?: number
  /** Cap of the exponential growth. Default 20 000. */
  maxDelayMs?: number
  /** Retries after a loss before giving up and closing. Default Infinity. */
  maxAttempts?: number
  /**
   * How long a connection must stay up before the backoff starts over. A gateway that welcomes and then drops
   * every connection at once keeps being backed off instead of being hammered. Default 5 000.
   */
  resetAfterMs?: number
}

export interface PushClientOptions {
  /** Sent in `hello.auth.token`, never in the URL. */
  authToken?: string
  /**
   * An agent identity (`generateIdentity`, `loadIdentity`): its did:key goes in `hello.auth.identity` and the
   * client answers the gateway's challenge with a signature, on every (re)connect. The key must be registered
   * on the gateway (by an admin or through device pairing).
   */
  identity?: AgentIdentity
  /**
   * Ask the operator to pair this device. Used only while the client has no `authToken`: `connect()` then
   * waits for the operator's decision and, on approval, the `device_token` event brings the device's own
   * token, which the client uses from then on. With `identity` too, the request carries the identity and its
   * public key: approval registers the key, the client answers the challenge, and every later connect uses
   * the identity (with the token). Once the key is registered, drop `pairing` (or pass the kept token).
   */
  pairing?: PairingOptions
  /**
   * The longest time to wait for the operator's decision on a device pairing request, instead of
   * `connectTimeoutMs`. Past it the client stops with `pairing_expired`. Default 330 000 (5.5 min: the
   * gateway expires requests after 5 min and says so itself).
   */
  pairingTimeoutMs?: number
  /**
   * A stable identity; without one the gateway assigns one on first connect and it is kept afterwards.
   * Durable subscriptions and direct messages to this client need one that survives restarts.
   */
  clientId?: string
  /** How deliveries (durable channel messages, direct messages) are acknowledged. Default `'auto'`. */
  ackMode?: AckMode
  /** `true` (default) for the default backoff, `false` to never reconnect, or tuned settings. */
  reconnect?: boolean | ReconnectOptions
  /** How long a request waits for its reply, including time spent waiting for a reconnect. Default 10 000. */
  requestTimeoutMs?: number
  /**
   * How long one attempt may take from opening the socket to the `welcome`. Default 10 000. Each attempt in
   * a row that timed out doubles the next one's timeouts (this and `websocketOpenTimeoutMs`), up to 8 times;
   * a `welcome` resets them: a gateway taking a reconnect herd drains its queue more slowly than a fixed
   * timeout would wait.
   */
  connectTimeoutMs?: number
  /** WebSocket implementation; defaults to the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor
  /**
   * When a WebSocket cannot be opened (upgrade refused, a proxy in the way, no answer), carry on over HTTP
   * long-polling with the same subscriptions and positions, and move back once a WebSocket works. Default true.
   */
  fallbackToPolling?: boolean
  /** While on polling, how often a WebSocket is tried again. Default 30 000. */
  websocketProbeIntervalMs?: number
  /**
   * With `fallbackToPolling`: how long a WebSocket may take to open (a proxy that swallows the upgrade never
   * answers) before the attempt is given up and the next one uses polling. Default 5 000, at most
   * `connectTimeoutMs`.
   */
  websocketOpenTimeoutMs?: number
  /** `fetch` for the polling transport; defaults to the global one. */
  fetch?: typeof fetch
  logger?: Logger
  /** Uniform random source in [0, 1) used for backoff jitter; tests inject a fixed one. */
  random?: () => number
}

export interface WaitForOptions {
  /** Milliseconds to wait for the message. Default 30 000. */
  timeout?: number
}

/** Per-request settings of `call` (used by subclasses such as `AgentClient`). */
export interface CallOptions {
  timeoutMs?: number
  signal?: AbortSignal
  /** Runs synchronously with the reply's result, before any later frame is handled. */
  onResult?: (result: Record<string, unknown>) => void
  /** The error to reject with when `timeoutMs` passes (default: a `TimeoutError`). */
  timeoutError?: () => ParleyError
}
