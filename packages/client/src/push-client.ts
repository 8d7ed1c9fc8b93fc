import {
  type BroadcastMessageFrame,
  BroadcastResult,
  type ChallengeFrame,
  type ChannelMessageFrame,
  ChannelName,
  CLOSE_CODES,
  type ClientFrame,
  ClientId,
  closeReasonOf,
  type DirectMessageFrame,
  describeIssues,
  type ErrorCode,
  encodeFrame,
  type HelloFrame,
  IdempotencyKey,
  MIN_PROTOCOL_VERSION,
  PairingCheckFrame,
  PairingCheckResult,
  type PairingResolvedFrame,
  PROTOCOL_VERSION,
  type PresenceFrame,
  PresenceListResult,
  PresenceSetResult,
  PresenceStatus,
  type PublishFrame,
  PublishResult,
  type ReceiptFrame,
  type SendFrame,
  SendResult,
  ServerFrame,
  type SessionResumedFrame,
  StreamPosition,
  type SubscribeFrame,
  SubscribeResult,
  shouldReconnect,
  UnsubscribeResult,
  type WelcomeFrame,
} from '@parley/protocol'
import { fullJitterDelay, shutdownDelay } from './backoff.js'
import {
  type AckMode,
  type DeliveryControls,
  DeliveryTracker,
  type NackOptions,
  NOT_A_DELIVERY,
  withControls,
} from './deliveries.js'
import { AbortedError, ParleyError, reasonOf, TimeoutError } from './errors.js'
import { type AgentIdentity, signChallenge } from './identity.js'
import { RecentIds } from './recent-ids.js'
import { type TransportChange, type TransportName, TransportSelector } from './transport-selector.js'
import { type Listener, TypedEmitter } from './typed-emitter.js'
import { CLIENT_NAME, CLIENT_VERSION } from './version.js'
import {
  messageText,
  resolveWebSocket,
  WEBSOCKET_OPEN,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.js'

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
  /** How long one attempt may take from opening the socket to the `welcome`. Default 10 000. */
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

interface ReconnectSettings {
  initialDelayMs: number
  maxDelayMs: number
  maxAttempts: number
  resetAfterMs: number
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

// The request frames, without the id the client assigns.
type RequestBody = DistributiveOmit<Extract<ClientFrame, { id: string }>, 'id'>

interface ChannelSubscription {
  durable: boolean
}

interface PendingRequest {
  frame: ClientFrame
  /** Whether the frame went out on the current socket; unsent requests wait for the next connection. */
  sent: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  resolve(result: Record<string, unknown>): void
  reject(error: ParleyError): void
}

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
}

const DEFAULT_RECONNECT: ReconnectSettings = {
  initialDelayMs: 500,
  maxDelayMs: 20_000,
  maxAttempts: Infinity,
  resetAfterMs: 5_000,
}
const DEFAULT_WAIT_FOR_TIMEOUT_MS = 30_000
// The gateway pings every heartbeatIntervalMs; missing two pings and a half means the link is dead even if
// the OS has not noticed (a laptop lid closed, a NAT entry dropped).
const LIVENESS_FACTOR = 2.5
// close() waits this long for the closing handshake; a dead peer must not hold it forever.
const CLOSE_GRACE_MS = 1_000
// The protocol's limit of ids per `ack` frame.
const MAX_ACKS_PER_FRAME = 1_000
// How soon a move back to WebSocket is tried again while requests are in flight.
const TRANSPORT_SWITCH_RETRY_MS = 50
// The gateway expires a device pairing request after 5 minutes; half a minute more covers clock and latency.
const DEFAULT_PAIRING_TIMEOUT_MS = 330_000

function noop(): void {}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function abortedError(signal: AbortSignal): ParleyError {
  return new AbortedError(reasonOf(signal.reason))
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}

function reconnectSettings(option: PushClientOptions['reconnect']): ReconnectSettings | false {
  if (option === false) return false
  if (option === true || option === undefined) return DEFAULT_RECONNECT
  return {
    initialDelayMs: option.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
    maxDelayMs: option.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    maxAttempts: option.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
    resetAfterMs: option.resetAfterMs ?? DEFAULT_RECONNECT.resetAfterMs,
  }
}

// setTimeout fires at once for delays above 2^31 - 1 ms (and for Infinity); such timeouts mean "no timeout".
const MAX_TIMER_DELAY_MS = 2_147_483_647

/** A timer for `delayMs`, or none when the delay is too long for a timer to mean anything. */
function timeoutTimer(delayMs: number, onTimeout: () => void): ReturnType<typeof setTimeout> | undefined {
  if (!(delayMs <= MAX_TIMER_DELAY_MS)) return undefined
  return setTimeout(onTimeout, Math.max(0, delayMs))
}

/**
 * The error codes that may explain a refusing close code; the first one stands for it when no `error` frame
 * explained it.
 */
function errorCodesForClose(code: number): readonly [ErrorCode, ...ErrorCode[]] {
  switch (closeReasonOf(code)) {
    case 'unauthorized':
      // Agent identity refusals close with 4001 too.
      return ['unauthorized', 'invalid_signature', 'unknown_identity', 'nonce_reused', 'stale_timestamp']
    case 'forbidden':
      return ['forbidden']
    case 'unsupported_protocol':
      return ['unsupported_protocol']
    case 'pairing_denied':
      return ['pairing_denied']
    case 'pairing_expired':
      return ['pairing_expired']
    case 'session_taken_over':
      // Another connection resumed this client's session: reconnecting would only take it back.
      return ['conflict']
    default:
      return ['unavailable']
  }
}

/**
 * Parley's push client: one WebSocket to the gateway with channel subscriptions, publish and broadcast,
 * automatic reconnect with full-jitter backoff and automatic re-subscribe. Runs in browsers and Node 20+.
 */
export class PushClient {
  readonly url: string

  private readonly options: PushClientOptions
  private readonly reconnect: ReconnectSettings | false
  private readonly requestTimeoutMs: number
  private readonly connectTimeoutMs: number
  private readonly pairingTimeoutMs: number
  private readonly random: () => number
  private readonly emitter: TypedEmitter<PushClientEvents>

  private currentState: ConnectionState = 'disconnected'
  private socket: WebSocketLike | undefined
  private WebSocketImpl: WebSocketConstructor | undefined
  private welcome: WelcomeInfo | undefined
  private assignedClientId: string | undefined
  /**
   * The current socket got its `welcome`: requests go out on it. The state turns `connected` only later, once
   * every channel is subscribed again, so `connected`, the `connect` event and `disconnect` come in pairs.
   */
  private welcomed = false
  /** When the current connection became `connected`; decides whether its loss starts the backoff over. */
  private connectedAt: number | undefined

  /** Channels the user subscribed and did not unsubscribe; replayed after every reconnect. */
  private readonly subscribed = new Map<string, ChannelSubscription>()
  /** The last stream position seen per channel: drops duplicates, and is the `since` of every resubscribe. */
  private readonly positions = new Map<string, StreamPosition>()
  /** Subscribes with `since` in flight: the `channel_message` frames before their reply are replays. */
  private readonly recovering = new Map<string, object>()
  private readonly ackMode: AckMode
  private readonly deliveries: DeliveryTracker
  /** Delivery ids acknowledged during the current tick, sent together in one `ack` frame. */
  private ackQueue: string[] = []
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  /**
   * The latest subscribe / unsubscribe call per channel while one is in flight. A reply only updates
   * `subscribed` when no later call for the channel was made, so the last call wins whatever the reply order.
   */
  private readonly latestChannelCall = new Map<string, number>()
  private channelCallSeq = 0
  private readonly pending = new Map<string, PendingRequest>()
  private readonly seenMessages = new RecentIds()
  private requestSeq = 0
  private connectWaiters: Array<{ resolve(info: WelcomeInfo): void; reject(error: ParleyError): void }> = []
  /** `waitFor` calls in progress; `close()` rejects them so no listener or timer outlives the client. */
  private readonly messageWaiters = new Set<(error: ParleyError) => void>()
  private closed: Deferred<void> = deferred()
  /** The socket closing handshake of the last `close()`, so a second `close()` waits for it too. */
  private closing: Promise<void> = Promise.resolve()

  private attempt = 0
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private connectTimer: ReturnType<typeof setTimeout> | undefined
  /** Gives up a WebSocket attempt that does not open in time, so the next attempt can use polling. */
  private openTimer: ReturnType<typeof setTimeout> | undefined
  private readonly websocketOpenTimeoutMs: number
  private readonly fallbackToPolling: boolean
  private livenessTimer: ReturnType<typeof setTimeout> | undefined
  /** Re-subscribes waiting to be retried on the current connection after a transient failure. */
  private readonly resubscribeTimers = new Set<ReturnType<typeof setTimeout>>()
  private livenessLimitMs = 0
  private lastReceivedAt = 0
  /** The last connection-level `error` frame; explains the close that usually follows it. */
  private lastServerError: ParleyError | undefined
  private shutdownReconnectAfterMs: number | undefined
  /** The token sent in `hello.auth.token`: the option's, or the device token the operator's approval gave. */
  private authToken: string | undefined
  /** The current socket's hello asked for device pairing: only then are pairing frames before welcome expected. */
  private pairingRequested = false
  private readonly transports: TransportSelector
  /** The session a reconnect asks to resume (the last welcome's), until the gateway refuses it. */
  private resumeSessionId: string | undefined
  /** The current socket's hello carried `resume`. */
  private resumeRequested = false
  /** A resumed welcome waits for `session_resumed`: called with it (or undefined when it did not come). */
  private resumeWaiter: ((frame: SessionResumedFrame | undefined) => void) | undefined
  /**
   * Channels restored by a resumed session whose continuity is being checked: a message past a gap (the
   * gateway believed more was seen than arrived) is dropped, and the channel resubscribed from its position.
   */
  private readonly resumeGuards = new Map<string, { gap: boolean }>()

  constructor(url: string, options: PushClientOptions = {}) {
    this.url = url
    this.options = options
    this.reconnect = reconnectSettings(options.reconnect)
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.fallbackToPolling = options.fallbackToPolling ?? true
    this.websocketOpenTimeoutMs = Math.min(options.websocketOpenTimeoutMs ?? 5_000, this.connectTimeoutMs)
    this.pairingTimeoutMs = options.pairingTimeoutMs ?? DEFAULT_PAIRING_TIMEOUT_MS
    this.authToken = options.authToken
    this.random = options.random ?? Math.random
    this.assignedClientId = options.clientId
    this.ackMode = options.ackMode ?? 'auto'
    this.deliveries = new DeliveryTracker({
      ack: (deliveryId) => this.queueAck(deliveryId),
      nack: (deliveryId, nackOptions) => this.sendNack(deliveryId, nackOptions),
    })
    this.emitter = new TypedEmitter<PushClientEvents>((event, error) => {
      this.log('error', { event, error: String(error) }, 'an event listener threw; the client carries on')
    })
    this.transports = new TransportSelector({
      fallbackToPolling: this.fallbackToPolling,
      probeIntervalMs: options.websocketProbeIntervalMs ?? 30_000,
      probeTimeoutMs: this.websocketOpenTimeoutMs,
      fetch: options.fetch,
      onChange: (change) => {
        this.log('info', { ...change }, 'transport changed')
        this.emitter.emit('transport_change', change)
      },
      onWebSocketAvailable: () => this.moveToWebSocket(),
    })
  }

  /** The transport of the current (or last) connection attempt; undefined before the first. */
  get transport(): TransportName | undefined {
    return this.transports.current
  }

  get state(): ConnectionState {
    return this.currentState
  }

  /** The client id: the one given, or the one the gateway assigned on first connect. */
  get clientId(): string | undefined {
    return this.assignedClientId
  }

  /** The session id of the current (or last) connection. */
  get sessionId(): string | undefined {
    return this.welcome?.sessionId
  }

  /** Channels that are subscribed now and will be subscribed again after a reconnect. */
  get subscriptions(): string[] {
    return [...this.subscribed.keys()]
  }

  /**
   * The last stream position seen on `channel` (from the subscribe reply and every message since). Keep it
   * to resume after a restart with `subscribe(channel, { since })`; reconnects use it on their own.
   */
  positionOf(channel: string): StreamPosition | undefined {
    const position = this.positions.get(channel)
    return position === undefined ? undefined : { ...position }
  }

  on<E extends PushClientEvent>(event: E, listener: Listener<PushClientEvents[E]>): this {
    this.emitter.on(event, listener)
    return this
  }

  off<E extends PushClientEvent>(event: E, listener: Listener<PushClientEvents[E]>): this {
    this.emitter.off(event, listener)
    return this
  }

  /**
   * Connects and resolves with the gateway's welcome once every earlier subscription is in place. Failed
   * attempts are retried with backoff while reconnecting is on; it rejects only when the client stops for
   * good (refused credentials, `close()`, reconnecting off or out of attempts).
   */
  connect(): Promise<WelcomeInfo> {
    if (this.currentState === 'connected' && this.welcome !== undefined) return Promise.resolve(this.welcome)
    const promise = new Promise<WelcomeInfo>((resolve, reject) => {
      this.connectWaiters.push({ resolve, reject })
    })
    if (this.currentState === 'disconnected' || this.currentState === 'closed') {
      if (this.currentState === 'closed') this.closed = deferred()
      this.attempt = 0
      this.setState('connecting')
      void this.openSocket()
    }
    return promise
  }

  /** Closes the connection for good: no reconnect; pending requests reject. Resolves once the socket closed. */
  close(): Promise<void> {
    if (this.currentState === 'closed') return this.closing
    // A later connect() starts a new session: the gateway must not restore channels given up meanwhile.
    this.resumeSessionId = undefined
    const socket = this.socket
    // Without a socket the loss is being handled right now (close() from a `disconnect` listener): that
    // `disconnect` event is the one, there is no second.
    const wasConnected = this.currentState === 'connected' && socket !== undefined
    this.socket = undefined
    if (wasConnected) {
      this.emitter.emit('disconnect', {
        code: CLOSE_CODES.normal.code,
        reason: 'client closed',
        willReconnect: false,
      })
    }
    this.toClosed(
      new ParleyError({ code: 'unavailable', message: 'the client was closed', retryable: false }),
    )
    this.closing = socket === undefined ? Promise.resolve() : closeGracefully(socket)
    return this.closing
  }

  /** Resolves when the client is closed for good. */
  waitClosed(): Promise<void> {
    return this.closed.promise
  }

  /**
   * Subscribes to `channel`; it is subscribed again after every reconnect, with `since` = the last position
   * seen, so nothing published meanwhile is missed (or the `subscribed` event says `recovered: false`).
   */
  async subscribe(channel: string, options: SubscribeOptions = {}): Promise<SubscribeReceipt> {
    checkChannel(channel)
    const durable = options.durable === true
    // A gateway-assigned id changes with every restart of this process, and the durable cursor with it.
    if (durable && this.options.clientId === undefined) {
      throw new ParleyError({
        code: 'bad_request',
        message: 'a durable subscription needs a stable identity: pass the clientId option',
      })
    }
    const since = options.since === undefined ? undefined : checkPosition(options.since)
    const existing = this.subscribed.get(channel)
    // Already subscribed alike (or to be re-subscribed on reconnect): asking again would change nothing.
    if (existing !== undefined && existing.durable === durable && since === undefined) {
      return this.subscribedInfo(channel, durable, false, {})
    }
    const call = this.beginChannelCall(channel)
    try {
      // An unsubscribe made while this was in flight went out after it and wins.
      const stillWanted = (): boolean => this.latestChannelCall.get(channel) === call
      return await this.subscribeRequest(channel, durable, since, stillWanted)
    } finally {
      this.endChannelCall(channel, call)
    }
  }

  /**
   * One `subscribe` request: tracks replays and the position, and reports the outcome. The channel is
   * recorded as subscribed as soon as the reply is read, before any later frame is handled.
   */
  private async subscribeRequest(
    channel: string,
    durable: boolean,
    since: StreamPosition | undefined,
    stillWanted: () => boolean,
  ): Promise<SubscribedInfo> {
    const body: Omit<SubscribeFrame, 'id'> = { type: 'subscribe', channel }
    if (since !== undefined) body.since = since
    if (durable) body.durable = true
    const marker = {}
    if (since !== undefined) {
      this.recovering.set(channel, marker)
      // Replays continue from `since`, whatever was seen before.
      this.positions.set(channel, since)
    }
    let result: Record<string, unknown>
    try {
      result = await this.call(body)
    } finally {
      if (this.recovering.get(channel) === marker) this.recovering.delete(channel)
    }
    const receipt = parseResult(SubscribeResult, result, 'subscribe')
    if (!stillWanted()) return this.subscribedInfo(channel, durable, since !== undefined, receipt)
    this.subscribed.set(channel, { durable })
    // Live frames read in the same chunk as the reply were handled before this continuation ran: they
    // may have moved the position past the reply's, which must not take it back.
    const current = this.positions.get(channel)
    if (
      receipt.offset !== undefined &&
      receipt.epoch !== undefined &&
      (current?.epoch !== receipt.epoch || current.offset < receipt.offset)
    ) {
      this.positions.set(channel, { offset: receipt.offset, epoch: receipt.epoch })
    }
    const info = this.subscribedInfo(channel, durable, since !== undefined, receipt)
    if (info.wasRecovering && !info.recovered) {
      this.log(
        'warn',
        { channel, since, offset: info.offset, epoch: info.epoch },
        'could not recover the messages missed on a channel; they are lost to this subscriber',
      )
    }
    this.emitter.emit('subscribed', info)
    return info
  }

  private subscribedInfo(
    channel: string,
    durable: boolean,
    wasRecovering: boolean,
    receipt: Partial<SubscribeResult>,
  ): SubscribedInfo {
    const position = this.positions.get(channel)
    const info: SubscribedInfo = {
      channel,
      wasRecovering,
      recovered: wasRecovering && receipt.recovered === true,
      replayed: receipt.replayed ?? 0,
      durable: receipt.durable ?? durable,
    }
    const offset = receipt.offset ?? position?.offset
    const epoch = receipt.epoch ?? position?.epoch
    if (offset !== undefined) info.offset = offset
    if (epoch !== undefined) info.epoch = epoch
    return info
  }

  async unsubscribe(channel: string): Promise<UnsubscribeReceipt> {
    checkChannel(channel)
    const call = this.beginChannelCall(channel)
    try {
      // Forget it first, so a reconnect racing with this request does not subscribe it again.
      const wasSubscribed = this.subscribed.delete(channel)
      this.positions.delete(channel)
      // Before the welcome the gateway holds no subscription for us; forgetting it is all there is to do. After
      // it (re-subscribes in flight included) the gateway must be told.
      if (!this.welcomed && wasSubscribed) return { channel }
      const result = await this.call({ type: 'unsubscribe', channel })
      return parseResult(UnsubscribeResult, result, 'unsubscribe')
    } finally {
      this.endChannelCall(channel, call)
    }
  }

  private beginChannelCall(channel: string): number {
    this.channelCallSeq += 1
    this.latestChannelCall.set(channel, this.channelCallSeq)
    return this.channelCallSeq
  }

  private endChannelCall(channel: string, call: number): void {
    if (this.latestChannelCall.get(channel) === call) this.latestChannelCall.delete(channel)
  }

  /**
   * Resolves once the gateway stored the publication. When it rejects (timeout, lost connection) the
   * publication may or may not have happened: retry with the same `idempotencyKey` to make that safe.
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    checkChannel(channel)
    checkData(data)
    const body: Omit<PublishFrame, 'id'> = { type: 'publish', channel, data }
    if (options.idempotencyKey !== undefined)
      body.idempotencyKey = checkIdempotencyKey(options.idempotencyKey)
    const result = await this.call(body)
    return parseResult(PublishResult, result, 'publish')
  }

  /**
   * Sends a direct message to the client id `to`, delivered at least once (it waits for the recipient while
   * it is offline, up to the gateway's message TTL). Resolves once the gateway stored it.
   */
  async send(to: string, data: unknown, options: SendOptions = {}): Promise<SendReceipt> {
    const recipient = ClientId.safeParse(to)
    if (!recipient.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid recipient ${JSON.stringify(to)}: ${recipient.error.issues[0]?.message ?? 'invalid'}`,
      })
    }
    checkData(data)
    const body: Omit<SendFrame, 'id'> = { type: 'send', to, data }
    if (options.idempotencyKey !== undefined)
      body.idempotencyKey = checkIdempotencyKey(options.idempotencyKey)
    if (options.receipt === true) body.receipt = true
    const result = await this.call(body)
    return parseResult(SendResult, result, 'send')
  }

  async broadcast(data: unknown): Promise<BroadcastReceipt> {
    checkData(data)
    const result = await this.call({ type: 'broadcast', data })
    return parseResult(BroadcastResult, result, 'broadcast')
  }

  /**
   * For connectors (a `connector` token): may this chat sender talk to the agents? Resolves with the channel
   * type's verdict; `pending` carries the code to give the sender. Asking again for the same sender returns
   * the same code while it is live. The decision arrives later as a `pairing_resolved` event.
   */
  async pairingCheck(
    channelType: string,
    senderId: string,
    options: PairingCheckOptions = {},
  ): Promise<PairingCheckReceipt> {
    const body: Omit<PairingCheckFrame, 'id'> = { type: 'pairing_check', channelType, senderId }
    if (options.displayName !== undefined) body.displayName = options.displayName
    const parsed = PairingCheckFrame.omit({ id: true }).safeParse(body)
    if (!parsed.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid pairing check: ${describeIssues('pairing_check', parsed.error)}`,
      })
    }
    const result = await this.call(body)
    return parseResult(PairingCheckResult, result, 'pairing_check')
  }

  /** Sets this client's presence status (letters, digits, `_ - . :`) and metadata; subscribers see an `update`. */
  async setStatus(status: string, metadata?: Record<string, unknown>): Promise<PresenceStatusReceipt> {
    const parsed = PresenceStatus.safeParse(status)
    if (!parsed.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid status ${JSON.stringify(status)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      })
    }
    checkData(metadata ?? {})
    const result = await this.call(
      metadata === undefined ? { type: 'presence_set', status } : { type: 'presence_set', status, metadata },
    )
    return parseResult(PresenceSetResult, result, 'presence_set')
  }

  /**
   * Who is online on every gateway node: everyone, or the subscribers of `channel` (which needs the subscribe
   * scope on it). Also emitted as `presence_list`.
   */
  async getPresence(channel?: string): Promise<PresenceList> {
    if (channel !== undefined) checkChannel(channel)
    const result = await this.call(
      channel === undefined ? { type: 'presence_get' } : { type: 'presence_get', channel },
    )
    const list = parseResult(PresenceListResult, result, 'presence_get')
    this.emitter.emit('presence_list', list)
    return list
  }

  /**
   * Resolves with the next message on `channel`, subscribing first when needed (the subscription stays).
   * Rejects with `TimeoutError` when none arrives within `timeout` ms.
   */
  waitFor(channel: string, options: WaitForOptions = {}): Promise<ChannelMessage> {
    const timeoutMs = options.timeout ?? DEFAULT_WAIT_FOR_TIMEOUT_MS
    if (this.currentState === 'disconnected' || this.currentState === 'closed') {
      return Promise.reject(
        new ParleyError({
          code: 'invalid_state',
          message: `cannot wait for messages while ${this.currentState}; call connect() first`,
        }),
      )
    }
    return new Promise<ChannelMessage>((resolve, reject) => {
      let settled = false
      const finish = (): void => {
        settled = true
        clearTimeout(timer)
        this.emitter.off('channel_message', listener)
        this.messageWaiters.delete(fail)
      }
      const fail = (error: ParleyError): void => {
        if (settled) return
        finish()
        reject(error)
      }
      const listener = (message: ChannelMessage): void => {
        if (settled || message.channel !== channel) return
        finish()
        resolve(message)
      }
      const timer = timeoutTimer(timeoutMs, () => {
        fail(new TimeoutError(`no message on channel "${channel}" within ${timeoutMs} ms`))
      })
      this.messageWaiters.add(fail)
      // Listen before subscribing so a message that arrives right after the subscribe reply is not missed.
      this.emitter.on('channel_message', listener)
      if (!this.subscribed.has(channel)) {
        this.subscribe(channel).catch((error: ParleyError) => fail(error))
      }
    })
  }

  // ------------------------------------------------------------------ subclass hooks

  /**
   * Runs after each `welcome` (reconnects included), in parallel with the resubscribes; the client becomes
   * `connected` (and `connect()` resolves) once both finished. A rejection is ignored: report it yourself.
   */
  protected afterWelcome(_info: WelcomeInfo): Promise<void> {
    return Promise.resolve()
  }

  /** Whether the current connection has been welcomed (requests go out now). */
  protected get isWelcomed(): boolean {
    return this.welcomed
  }

  /** Server frames PushClient does not handle itself (agent frames). */
  protected handleExtraFrame(_frame: ServerFrame): void {}

  /** The connection went away (a reconnect may follow) or the client closed: in-flight work is over. */
  protected connectionLost(_reason: string): void {}

  // ------------------------------------------------------------------ requests

  /**
   * Sends a request frame (the client assigns its id) and resolves with the `reply` result. Subclasses use it
   * for their own request types; `timeoutMs` overrides `requestTimeoutMs`, `signal` gives up locally (a late
   * answer is dropped), `onResult` runs synchronously when the reply arrives, before later frames are handled.
   */
  protected call(body: RequestBody, options: CallOptions = {}): Promise<Record<string, unknown>> {
    if (options.signal?.aborted === true) return Promise.reject(abortedError(options.signal))
    if (this.currentState === 'disconnected' || this.currentState === 'closed') {
      return Promise.reject(
        new ParleyError({
          code: 'invalid_state',
          message: `cannot ${body.type} while ${this.currentState}; call connect() first`,
        }),
      )
    }
    return new Promise((resolve, reject) => {
      this.requestSeq += 1
      const id = `r${this.requestSeq}`
      const frame = { ...body, id } as ClientFrame
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
      const { signal, onResult } = options
      const onAbort = (): void => {
        if (signal !== undefined) this.settle(id, { error: abortedError(signal) })
      }
      const timer = timeoutTimer(timeoutMs, () => {
        this.pending.delete(id)
        signal?.removeEventListener('abort', onAbort)
        reject(
          options.timeoutError?.() ??
            new TimeoutError(`${body.type} request ${id} got no answer within ${timeoutMs} ms`),
        )
      })
      const request: PendingRequest = {
        frame,
        sent: false,
        timer,
        resolve(result) {
          signal?.removeEventListener('abort', onAbort)
          onResult?.(result)
          resolve(result)
        },
        reject(error) {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending.set(id, request)
      // While reconnecting the request waits (within its timeout) and goes out on the next connection.
      if (this.welcomed) this.sendRequest(request)
    })
  }

  private sendRequest(request: PendingRequest): void {
    request.sent = this.sendFrame(request.frame)
  }

  private settle(id: string, outcome: { result: Record<string, unknown> } | { error: ParleyError }): boolean {
    const request = this.pending.get(id)
    if (request === undefined) return false
    this.pending.delete(id)
    clearTimeout(request.timer)
    if ('result' in outcome) request.resolve(outcome.result)
    else request.reject(outcome.error)
    return true
  }

  private rejectPending(error: ParleyError, onlySent: boolean): void {
    for (const [id, request] of this.pending) {
      if (onlySent && !request.sent) continue
      this.settle(id, { error })
    }
  }

  // ------------------------------------------------------------------ connection lifecycle

  private async openSocket(): Promise<void> {
    let Impl: WebSocketConstructor
    try {
      this.WebSocketImpl ??= await resolveWebSocket(this.options.WebSocket)
      Impl = this.WebSocketImpl
    } catch (error) {
      this.toClosed(
        new ParleyError({
          code: 'unavailable',
          message: `no WebSocket implementation available: ${String(error)}`,
          retryable: false,
        }),
      )
      return
    }
    // close() may have run while the implementation was loading.
    if (this.currentState !== 'connecting' || this.socket !== undefined) return

    let socket: WebSocketLike
    try {
      socket = this.transports.create(this.url, Impl)
    } catch (error) {
      this.toClosed(
        new ParleyError({ code: 'bad_request', message: `cannot open ${this.url}: ${String(error)}` }),
      )
      return
    }
    this.socket = socket
    this.lastServerError = undefined
    this.pairingRequested = false
    this.resumeRequested = false
    this.log('debug', { url: this.url, attempt: this.attempt }, 'opening socket')
    if ('binaryType' in socket) socket.binaryType = 'arraybuffer'
    socket.onopen = () => {
      this.transports.opened(socket)
      if (this.socket === socket) {
        clearTimeout(this.openTimer)
        this.sendFrame(this.helloFrame())
      }
    }
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handleText(messageText(event.data))
    }
    socket.onclose = (event) => {
      if (this.socket === socket) this.handleSocketLost(event.code, event.reason)
    }
    // An error event is always followed by a close event, which carries the code we act on.
    socket.onerror = noop
    this.armConnectTimer()
    this.armOpenTimer(socket)
  }

  private armOpenTimer(socket: WebSocketLike): void {
    clearTimeout(this.openTimer)
    if (!this.fallbackToPolling || this.transports.current !== 'websocket') return
    this.openTimer = timeoutTimer(this.websocketOpenTimeoutMs, () => {
      if (this.socket !== socket || socket.readyState !== 0) return
      this.abortSocket(
        CLOSE_CODES.handshake_timeout.code,
        `the WebSocket did not open within websocketOpenTimeoutMs (${this.websocketOpenTimeoutMs} ms)`,
      )
    })
  }

  private armConnectTimer(): void {
    clearTimeout(this.connectTimer)
    this.connectTimer = timeoutTimer(this.connectTimeoutMs, () => {
      this.abortSocket(
        CLOSE_CODES.handshake_timeout.code,
        `no welcome within connectTimeoutMs (${this.connectTimeoutMs} ms)`,
      )
    })
  }

  private helloFrame(): HelloFrame {
    const hello: HelloFrame = {
      type: 'hello',
      protocol: { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
      client: { name: CLIENT_NAME, version: CLIENT_VERSION },
    }
    if (this.assignedClientId !== undefined) hello.clientId = this.assignedClientId
    const identity = this.options.identity
    if (this.authToken === undefined && this.options.pairing !== undefined) {
      // Only a device without a token asks to be paired; once approved it has one. With an identity, the
      // approval also registers its key, and the identity is what it connects with from then on.
      const { name, platform } = this.options.pairing.device
      hello.pairing = { device: platform === undefined ? { name } : { name, platform } }
      if (identity !== undefined) {
        hello.auth = { identity: identity.id }
        hello.pairing.publicKey = identity.publicKey
      }
      this.pairingRequested = true
    } else if (this.authToken !== undefined || identity !== undefined) {
      hello.auth = {}
      if (this.authToken !== undefined) hello.auth.token = this.authToken
      if (identity !== undefined) hello.auth.identity = identity.id
    }
    if (this.resumeSessionId !== undefined && !this.pairingRequested) {
      hello.resume = { sessionId: this.resumeSessionId }
      this.resumeRequested = true
    }
    return hello
  }

  /** Signs the gateway's nonce (with our clock's timestamp) and answers with `authenticate`. */
  private async answerChallenge(frame: ChallengeFrame): Promise<void> {
    const identity = this.options.identity
    if (identity === undefined || this.welcomed) {
      this.log('warn', {}, 'ignored a challenge the client did not ask for')
      return
    }
    const socket = this.socket
    let signed: Awaited<ReturnType<typeof signChallenge>>
    try {
      signed = await signChallenge(identity, { nonce: frame.nonce })
    } catch (error) {
      if (this.socket !== socket) return
      // The key cannot sign (no Ed25519 in this runtime) or the nonce is malformed: retrying changes nothing.
      const failure =
        error instanceof ParleyError
          ? error
          : new ParleyError({ code: 'internal', message: `signing the challenge failed: ${String(error)}` })
      this.reportError(failure)
      this.toClosed(failure)
      return
    }
    // The connection may have gone while signing; its nonce is worthless on another one.
    if (this.socket !== socket || this.welcomed) return
    this.sendFrame({
      type: 'authenticate',
      identity: signed.id,
      nonce: signed.nonce,
      timestamp: signed.timestamp,
      signature: signed.signature,
    })
  }

  /** The operator has the request: wait for the decision (up to `pairingTimeoutMs`), not `connectTimeoutMs`. */
  private handlePairingPending(requestId: string, expiresAt: number): void {
    if (!this.pairingRequested || this.welcomed) return
    clearTimeout(this.connectTimer)
    this.connectTimer = timeoutTimer(this.pairingTimeoutMs, () => {
      const error = new ParleyError({
        code: 'pairing_expired',
        message: `the pairing request ${requestId} was not decided within pairingTimeoutMs (${this.pairingTimeoutMs} ms)`,
      })
      this.reportError(error)
      this.toClosed(error)
    })
    this.log('info', { requestId, expiresAt }, 'waiting for the operator to approve this device')
    this.emitter.emit('pairing_pending', { requestId, expiresAt })
  }

  /** Approved: the device token joins any identity in every later hello; `welcome` follows (after the challenge with an identity). */
  private handlePairingApproved(token: string, deviceId: string, requestId: string): void {
    if (!this.pairingRequested || this.welcomed) return
    this.pairingRequested = false
    this.authToken = token
    this.armConnectTimer()
    this.log('info', { requestId, deviceId }, 'device pairing approved')
    this.emitter.emit('device_token', { token, deviceId, requestId })
  }

  private handleWelcome(frame: WelcomeFrame): void {
    if (this.currentState !== 'connecting' || this.welcomed) return
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
    const { type: _type, id: _id, ...info } = frame
    this.welcome = info
    this.assignedClientId = info.clientId
    this.welcomed = true
    this.lastServerError = undefined
    this.shutdownReconnectAfterMs = undefined
    this.livenessLimitMs = info.heartbeatIntervalMs * LIVENESS_FACTOR
    this.armLiveness()
    this.log('debug', { sessionId: info.sessionId, clientId: info.clientId }, 'welcomed')
    if (this.WebSocketImpl !== undefined) this.transports.welcomed(this.url, this.WebSocketImpl)

    const socket = this.socket
    const resumed = info.resumed === true && this.resumeRequested
    this.resumeRequested = false
    this.resumeSessionId = info.sessionId
    const queued = [...this.pending.values()].filter((request) => !request.sent)
    this.resumeGuards.clear()
    const restoring = resumed ? this.awaitSessionResumed() : Promise.resolve([])
    const resubscribes = restoring.then((restored) =>
      Promise.all(
        [...this.subscribed.keys()]
          .filter((channel) => !restored.includes(channel))
          .map((channel) =>
            this.resubscribe(channel).then(
              () => {
                this.endResumeGuard(channel, socket)
                return undefined
              },
              (error: ParleyError) => {
                this.endResumeGuard(channel, socket)
                return { channel, error }
              },
            ),
          ),
      ),
    )
    for (const request of queued) this.sendRequest(request)
    const ready = Promise.all([resubscribes, this.afterWelcome(info).catch(noop)]).then(
      ([failures]) => failures,
    )

    void ready.then((failures) => {
      // The connection may have gone again while the subscriptions were being restored.
      if (this.socket !== socket || !this.welcomed) return
      for (const failure of failures) {
        if (failure !== undefined) this.resubscribeFailed(failure.channel, failure.error, 1)
      }
      // Only now is the client `connected`: the backoff starts over once this connection has lasted.
      this.connectedAt = Date.now()
      this.setState('connected')
      // A `state` listener may have closed the client already.
      if (this.currentState !== 'connected') return
      this.log('info', { sessionId: info.sessionId, clientId: info.clientId }, 'connected')
      const waiters = this.connectWaiters
      this.connectWaiters = []
      for (const waiter of waiters) waiter.resolve(info)
      this.emitter.emit('connect', info)
    })
  }

  /**
   * After a resumed welcome: resolves with the channels the gateway restored and that continue without a
   * gap, once `session_resumed` arrived (or with none if it does not come within the request timeout, so
   * every channel is resubscribed from its position as after any reconnect).
   */
  private awaitSessionResumed(): Promise<string[]> {
    for (const [channel, subscription] of this.subscribed) {
      if (!subscription.durable && this.positions.has(channel)) this.resumeGuards.set(channel, { gap: false })
    }
    return new Promise<SessionResumedFrame | undefined>((resolve) => {
      const timer = timeoutTimer(this.requestTimeoutMs, () => {
        this.resumeWaiter = undefined
        resolve(undefined)
      })
      this.resumeWaiter = (frame) => {
        clearTimeout(timer)
        this.resumeWaiter = undefined
        resolve(frame)
      }
    }).then((frame) => {
      const guards = new Map(this.resumeGuards)
      if (frame === undefined) return []
      const continuing: string[] = []
      for (const restored of frame.subscriptions) {
        const { channel } = restored
        if (!this.subscribed.has(channel)) {
          // Given up while disconnected: the gateway restored it all the same.
          this.unsubscribeRestored(channel)
          continue
        }
        const current = this.positions.get(channel)
        const ahead =
          current !== undefined && current.epoch === restored.epoch && restored.offset > current.offset
        if (guards.get(channel)?.gap === true || ahead || !restored.recovered) continue
        if (current === undefined || current.epoch !== restored.epoch || current.offset < restored.offset) {
          this.positions.set(channel, { offset: restored.offset, epoch: restored.epoch })
        }
        this.resumeGuards.delete(channel)
        continuing.push(channel)
      }
      const { type: _type, ...resumedInfo } = frame
      this.emitter.emit('session_resumed', resumedInfo)
      // Restored channels report their recovery like the client's own resubscribes do.
      for (const restored of frame.subscriptions) {
        if (!continuing.includes(restored.channel)) continue
        this.emitter.emit('subscribed', {
          channel: restored.channel,
          wasRecovering: true,
          recovered: true,
          replayed: restored.replayed,
          offset: restored.offset,
          epoch: restored.epoch,
          durable: false,
        })
      }
      return continuing
    })
  }

  /**
   * The channel's own resubscribe was answered: from here its replay and live frames follow in order. Until
   * then, live frames still in flight from the restored subscription (past the gap) were dropped.
   */
  private endResumeGuard(channel: string, socket: WebSocketLike | undefined): void {
    if (this.socket === socket) this.resumeGuards.delete(channel)
  }

  private unsubscribeRestored(channel: string): void {
    this.call({ type: 'unsubscribe', channel }).catch((error: ParleyError) => {
      this.log('debug', { channel, code: error.code }, 'unsubscribing a restored channel failed')
    })
  }

  /**
   * The client's own subscribe of a channel it held before: durable ones as durable (the gateway kept their
   * cursor), the others from the last position seen, so the gateway replays what was missed meanwhile.
   */
  private resubscribe(channel: string): Promise<SubscribedInfo> {
    const durable = this.subscribed.get(channel)?.durable === true
    const since = durable ? undefined : this.positions.get(channel)
    return this.subscribeRequest(channel, durable, since, () => this.subscribed.has(channel))
  }

  /**
   * A refusal (forbidden, bad name) will not change on its own: the channel is dropped. A transient failure
   * (rate limit, timeout) is retried on the same connection with backoff, so the channel does not stay in
   * `subscriptions` without being subscribed until some later reconnect.
   */
  private resubscribeFailed(channel: string, error: ParleyError, failures: number): void {
    const socket = this.socket
    if (socket === undefined || !this.welcomed || !this.subscribed.has(channel)) return
    if (!error.retryable) this.subscribed.delete(channel)
    this.reportError(
      new ParleyError({
        code: error.code,
        message: `re-subscribing to "${channel}" failed: ${error.message}`,
        retryable: error.retryable,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      }),
    )
    if (!error.retryable) return
    const backoff = this.reconnect === false ? DEFAULT_RECONNECT : this.reconnect
    const delayMs = Math.min(
      MAX_TIMER_DELAY_MS,
      Math.max(error.retryAfterMs ?? 0, fullJitterDelay(failures - 1, backoff, this.random)),
    )
    const timer = setTimeout(() => {
      this.resubscribeTimers.delete(timer)
      if (this.socket !== socket || !this.subscribed.has(channel)) return
      this.resubscribe(channel).catch((retryError: ParleyError) => {
        if (this.socket === socket) this.resubscribeFailed(channel, retryError, failures + 1)
      })
    }, delayMs)
    this.resubscribeTimers.add(timer)
  }

  /**
   * A WebSocket works again while on polling: reconnect over it, at a moment with no request in flight (a
   * request sent on the old connection would fail with it). Subscriptions resume from their positions.
   */
  private moveToWebSocket(): void {
    if (this.currentState !== 'connected' || this.socket === undefined) return
    if ([...this.pending.values()].some((request) => request.sent)) {
      setTimeout(() => this.moveToWebSocket(), TRANSPORT_SWITCH_RETRY_MS)
      return
    }
    this.log('info', {}, 'moving back to WebSocket')
    this.abortSocket(CLOSE_CODES.going_away.code, 'moving to WebSocket')
  }

  /** Drops the current socket on our side (timeouts) and handles it like a loss, without waiting for TCP. */
  private abortSocket(code: number, reason: string): void {
    const socket = this.socket
    if (socket === undefined) return
    this.log('warn', { code, reason }, 'dropping connection')
    detach(socket)
    try {
      socket.close(code, reason)
    } catch {
      // Closing a socket that is already failing can throw; it is gone either way.
    }
    // The peer is silent: it will not answer the closing handshake, and `ws` would keep the socket (and a 30 s
    // timer that holds a Node process open) waiting for it.
    terminate(socket)
    this.handleSocketLost(code, reason)
  }

  private handleSocketLost(code: number, reason: string): void {
    const wasConnected = this.currentState === 'connected'
    this.transports.lost(this.socket)
    this.socket = undefined
    this.welcomed = false
    this.clearConnectionTimers()
    this.rejectPending(
      new ParleyError({
        code: 'unavailable',
        message: `connection lost (${describeClose(code, reason)})`,
        retryable: true,
      }),
      true,
    )
    this.connectionLost(`connection lost (${describeClose(code, reason)})`)
    if (this.currentState !== 'connecting' && this.currentState !== 'connected') return

    // Only a connection that lasted starts the backoff over; one lost right after its welcome counts as one
    // more failed attempt, or a gateway that welcomes and then drops everyone would be hammered.
    if (
      wasConnected &&
      this.reconnect !== false &&
      this.connectedAt !== undefined &&
      Date.now() - this.connectedAt >= this.reconnect.resetAfterMs
    ) {
      this.attempt = 0
    }
    const refused = !shouldReconnect(code)
    const attemptsLeft = this.reconnect !== false && this.attempt < this.reconnect.maxAttempts
    const willReconnect = this.reconnect !== false && !refused && attemptsLeft
    this.log('info', { code, reason, willReconnect }, 'disconnected')
    if (wasConnected) this.emitter.emit('disconnect', { code, reason, willReconnect })
    // A listener may have called close() (or connect() after it): that decision stands.
    if (this.currentState !== 'connected' && this.currentState !== 'connecting') return

    if (willReconnect) {
      if (wasConnected) this.setState('connecting')
      if (this.currentState !== 'connecting') return
      this.scheduleReconnect()
      return
    }

    this.toClosed(this.finalError(code, reason, refused, wasConnected))
  }

  /** The error a client that stops for good rejects `connect()` and pending requests with. */
  private finalError(code: number, reason: string, refused: boolean, wasConnected: boolean): ParleyError {
    if (refused && code !== CLOSE_CODES.normal.code) {
      // The error frame before a refusal explains it and was emitted when it arrived; an unrelated earlier
      // one must not stand in for it.
      const expected = errorCodesForClose(code)
      if (this.lastServerError !== undefined && expected.includes(this.lastServerError.code)) {
        return this.lastServerError
      }
      const error = new ParleyError({
        code: expected[0],
        message: `the gateway refused the connection (${describeClose(code, reason)})`,
        retryable: false,
      })
      this.reportError(error)
      return error
    }
    if (this.reconnect !== false && !refused) {
      const error = new ParleyError({
        code: 'unavailable',
        message: `gave up after ${this.attempt} reconnect attempts (last: ${describeClose(code, reason)})`,
      })
      this.reportError(error)
      return error
    }
    // Reconnecting is off: during the handshake an error frame (server_full, ...) is the best explanation.
    if (!wasConnected && this.lastServerError !== undefined) return this.lastServerError
    return new ParleyError({
      code: 'unavailable',
      message: `connection closed (${describeClose(code, reason)})`,
    })
  }

  private scheduleReconnect(): void {
    if (this.reconnect === false) return
    this.attempt += 1
    let delayMs = fullJitterDelay(this.attempt - 1, this.reconnect, this.random)
    if (this.shutdownReconnectAfterMs !== undefined) {
      delayMs = shutdownDelay(this.shutdownReconnectAfterMs, this.reconnect.initialDelayMs, this.random)
      this.shutdownReconnectAfterMs = undefined
    }
    // server_full and rate limits say when to come back; arriving earlier would only be refused again.
    const retryAfterMs = this.lastServerError?.retryAfterMs
    if (retryAfterMs !== undefined) delayMs = Math.max(delayMs, retryAfterMs)
    delayMs = Math.min(delayMs, MAX_TIMER_DELAY_MS)
    this.emitter.emit('reconnecting', { attempt: this.attempt, delayMs })
    // A `state` or `reconnecting` listener may have closed the client; a timer now would outlive it.
    if (this.currentState !== 'connecting' || this.socket !== undefined) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.currentState === 'connecting' && this.socket === undefined) void this.openSocket()
    }, delayMs)
  }

  private toClosed(error: ParleyError): void {
    this.transports.stop()
    this.clearConnectionTimers()
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    if (this.socket !== undefined) {
      detach(this.socket)
      try {
        this.socket.close(CLOSE_CODES.normal.code, 'client closed')
      } catch {
        // Already closing.
      }
      this.socket = undefined
    }
    this.welcomed = false
    this.setState('closed')
    this.rejectPending(error, false)
    this.connectionLost(error.message)
    const waiters = this.connectWaiters
    this.connectWaiters = []
    for (const waiter of waiters) waiter.reject(error)
    for (const fail of [...this.messageWaiters]) fail(error)
    this.closed.resolve()
  }

  private clearConnectionTimers(): void {
    clearTimeout(this.connectTimer)
    clearTimeout(this.openTimer)
    this.openTimer = undefined
    clearTimeout(this.livenessTimer)
    this.connectTimer = undefined
    this.livenessTimer = undefined
    for (const timer of this.resubscribeTimers) clearTimeout(timer)
    this.resubscribeTimers.clear()
    // Acks that did not go out die with the connection: the gateway redelivers, and the redelivery is
    // acknowledged without running the handler again.
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    this.ackQueue = []
  }

  /** Re-arms itself for the remaining time instead of being reset on every frame, which would cost a timer each. */
  private armLiveness(): void {
    const remaining = this.livenessLimitMs - (Date.now() - this.lastReceivedAt)
    if (remaining <= 0) {
      this.abortSocket(
        CLOSE_CODES.heartbeat_timeout.code,
        `nothing received for ${this.livenessLimitMs} ms (2.5 heartbeat intervals)`,
      )
      return
    }
    // Capped: a longer delay would fire at once and turn this into a busy loop.
    this.livenessTimer = setTimeout(() => this.armLiveness(), Math.min(remaining, MAX_TIMER_DELAY_MS))
  }

  private setState(to: ConnectionState): void {
    const from = this.currentState
    if (from === to) return
    this.currentState = to
    this.emitter.emit('state', { from, to })
  }

  // ------------------------------------------------------------------ frames

  protected sendFrame(frame: ClientFrame): boolean {
    const socket = this.socket
    if (socket === undefined || socket.readyState !== WEBSOCKET_OPEN) return false
    try {
      socket.send(encodeFrame(frame))
      return true
    } catch (error) {
      this.log('warn', { type: frame.type, error: String(error) }, 'send failed')
      return false
    }
  }

  private handleText(text: string | undefined): void {
    this.lastReceivedAt = Date.now()
    if (text === undefined) return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      this.reportBadFrame('the gateway sent text that is not JSON', undefined)
      return
    }
    const parsed = ServerFrame.safeParse(value)
    if (!parsed.success) {
      const id = (value as { id?: unknown } | null)?.id
      const type = (value as { type?: unknown } | null)?.type
      this.reportBadFrame(
        describeIssues(typeof type === 'string' ? type : 'server', parsed.error),
        typeof id === 'string' ? id : undefined,
      )
      return
    }
    const frame = parsed.data
    switch (frame.type) {
      case 'welcome':
        this.handleWelcome(frame)
        return
      case 'reply':
        this.settle(frame.id, { result: frame.result })
        return
      case 'error': {
        const error = ParleyError.fromBody(frame)
        if (frame.id !== undefined && this.settle(frame.id, { error })) return
        // Not tied to a request: about the connection (refused credentials, server full) or a frame we sent.
        // A late answer to a request that already timed out says nothing about the connection: it must not
        // explain the next close or delay the next reconnect by its retryAfterMs.
        if (!this.welcomed && this.resumeRequested && frame.id === undefined && error.code === 'forbidden') {
          // The session is not ours to resume (it never was, or the gateway no longer agrees): start afresh.
          this.log('info', { sessionId: this.resumeSessionId }, 'session resume refused; saying hello anew')
          this.resumeSessionId = undefined
          this.resumeRequested = false
          this.sendFrame(this.helloFrame())
          return
        }
        if (frame.id === undefined) this.lastServerError = error
        this.reportError(error)
        // Before the welcome, an error that is not retryable refuses our hello (a malformed client id, a token
        // over the size limit...). The gateway may keep the socket open without answering; sending the same
        // hello again would fail the same way, so the client stops instead of retrying forever.
        if (!this.welcomed && frame.id === undefined && !error.retryable) this.toClosed(error)
        return
      }
      case 'channel_message':
        this.handleChannelMessage(frame)
        return
      case 'direct_message': {
        const { type: _type, ...fields } = frame
        this.handleDelivery('direct_message', fields, `direct\u0000${fields.id}`, fields.deliveryId)
        return
      }
      case 'receipt': {
        const { type: _type, ...receipt } = frame
        this.emitter.emit('receipt', receipt)
        return
      }
      case 'broadcast_message': {
        const { type: _type, ...message } = frame
        if (this.seenMessages.add(`\u0000broadcast\u0000${message.id}`)) {
          this.emitter.emit('broadcast_message', message)
        }
        return
      }
      case 'challenge':
        void this.answerChallenge(frame)
        return
      case 'pairing_pending':
        this.handlePairingPending(frame.requestId, frame.expiresAt)
        return
      case 'pairing_approved':
        this.handlePairingApproved(frame.token, frame.deviceId, frame.requestId)
        return
      case 'pairing_resolved': {
        const { type: _type, ...resolution } = frame
        this.emitter.emit('pairing_resolved', resolution)
        return
      }
      case 'presence': {
        const { type: _type, ...presence } = frame
        this.emitter.emit('presence', presence)
        return
      }
      case 'session_resumed':
        this.resumeWaiter?.(frame)
        return
      case 'ping':
        this.sendFrame({ type: 'pong', ts: frame.ts })
        return
      case 'pong':
        return
      case 'shutdown':
        // The gateway closes the socket next; remember when it wants us back.
        this.log(
          'info',
          { reason: frame.reason, reconnectAfterMs: frame.reconnectAfterMs },
          'gateway shutting down',
        )
        this.shutdownReconnectAfterMs = frame.reconnectAfterMs
        return
      default:
        this.handleExtraFrame(frame)
    }
  }

  private handleChannelMessage(frame: ChannelMessageFrame): void {
    const { type: _type, ...fields } = frame
    const { channel, offset, epoch, deliveryId } = fields
    if (deliveryId !== undefined) {
      // A durable delivery: redeliveries and retries come out of stream order, so they are deduplicated by
      // message id, never by offset. The position only moves forward for `positionOf`.
      const last = this.positions.get(channel)
      if (offset !== undefined && epoch !== undefined && (last?.epoch !== epoch || offset > last.offset)) {
        if (this.isTracked(channel)) this.positions.set(channel, { offset, epoch })
      }
      this.handleDelivery('channel_message', fields, `channel\u0000${channel}\u0000${fields.id}`, deliveryId)
      return
    }
    if (offset !== undefined && epoch !== undefined) {
      if (this.pastResumeGap(channel, offset, epoch)) return
      if (!this.advancePosition(channel, { offset, epoch })) return
    } else if (!this.seenMessages.add(`${channel}\u0000${fields.id}`)) {
      // A gateway without stream positions: fall back to the recent message ids.
      return
    }
    const message: Omit<ChannelMessage, keyof DeliveryControls> = this.recovering.has(channel)
      ? { ...fields, replayed: true }
      : fields
    this.emitter.emit('channel_message', withControls(message, NOT_A_DELIVERY))
  }

  /**
   * While a resumed session's channels are being checked: true for a message past a gap in the stream. It is
   * dropped; the channel is resubscribed from the last position seen, which replays it in order.
   */
  private pastResumeGap(channel: string, offset: number, epoch: string): boolean {
    const guard = this.resumeGuards.get(channel)
    if (guard === undefined) return false
    const last = this.positions.get(channel)
    if (last === undefined || last.epoch !== epoch || offset <= last.offset + 1) return false
    guard.gap = true
    return true
  }

  /** Channels whose position is worth keeping: subscribed, or with a subscribe or unsubscribe in flight. */
  private isTracked(channel: string): boolean {
    return this.subscribed.has(channel) || this.latestChannelCall.has(channel)
  }

  /** Moves the channel's position to a live message's; false when the message is a duplicate. */
  private advancePosition(channel: string, position: StreamPosition): boolean {
    const last = this.positions.get(channel)
    if (last !== undefined && last.epoch === position.epoch) {
      if (position.offset <= last.offset) {
        this.log(
          'debug',
          { channel, offset: position.offset, last: last.offset },
          'dropped a duplicate message',
        )
        return false
      }
      if (position.offset > last.offset + 1) {
        this.log('warn', { channel, from: last.offset, to: position.offset }, 'gap in a channel stream')
      }
    } else if (last !== undefined) {
      // The gateway lost the stream's history (a restart without persistence): its offsets start over.
      this.log('warn', { channel, from: last.epoch, to: position.epoch }, 'channel stream epoch changed')
    }
    if (this.isTracked(channel)) this.positions.set(channel, position)
    return true
  }

  /**
   * Runs the listeners once per message however often it is delivered, then settles the delivery: in auto
   * mode ack once every listener's promise resolved, nack when one failed (in either mode, unless a listener
   * settled it first).
   */
  private handleDelivery<E extends 'channel_message' | 'direct_message'>(
    event: E,
    fields: Omit<PushClientEvents[E], keyof DeliveryControls>,
    key: string,
    deliveryId: string,
  ): void {
    // Without a listener nobody handled it: leave it unacknowledged so the gateway delivers it again, maybe
    // to a listener registered by then, rather than acknowledging a message nobody saw.
    if (this.emitter.listenerCount(event) === 0 && !this.deliveries.isKnown(key)) {
      this.log('warn', { event, deliveryId }, 'a delivery arrived with no listener; it stays unacknowledged')
      return
    }
    const controls = this.deliveries.receive(key, deliveryId)
    if (controls === undefined) return
    const message = withControls(fields, controls) as PushClientEvents[E]
    void this.emitter.emitAndWait(event, message).then((failures) => {
      if (failures.length > 0) {
        const failure = failures[0]
        const settledNow = controls.nack({ reason: `handler failed: ${String(failure)}` })
        this.reportError(
          new ParleyError({
            code: 'internal',
            message: `a ${event} handler failed for message ${fields.id} (${settledNow ? 'refused for a retry' : 'already settled'}): ${String(failure)}`,
            retryable: true,
            cause: failure,
          }),
        )
        return
      }
      if (this.ackMode === 'auto') controls.ack()
    })
  }

  /** Acks go out together: one frame per tick (or per 1,000 ids) instead of one per message. */
  private queueAck(deliveryId: string): void {
    if (!this.welcomed) {
      this.log('debug', { deliveryId }, 'not connected: ack dropped, the gateway will redeliver')
      return
    }
    this.ackQueue.push(deliveryId)
    if (this.ackQueue.length >= MAX_ACKS_PER_FRAME) {
      this.flushAcks()
      return
    }
    this.ackTimer ??= setTimeout(() => this.flushAcks(), 0)
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    const ids = this.ackQueue
    this.ackQueue = []
    if (ids.length === 0 || !this.welcomed) return
    for (let start = 0; start < ids.length; start += MAX_ACKS_PER_FRAME) {
      this.sendFrame({ type: 'ack', deliveryIds: ids.slice(start, start + MAX_ACKS_PER_FRAME) })
    }
  }

  private sendNack(deliveryId: string, options: NackOptions): void {
    if (!this.welcomed) {
      this.log('debug', { deliveryId }, 'not connected: nack dropped, the gateway will redeliver')
      return
    }
    this.sendFrame({ type: 'nack', deliveryId, ...options })
  }

  private reportBadFrame(message: string, id: string | undefined): void {
    const error = new ParleyError({
      code: 'invalid_frame',
      message: `invalid frame from the gateway: ${message}`,
    })
    if (id !== undefined && this.settle(id, { error })) return
    this.reportError(error)
  }

  protected reportError(error: ParleyError): void {
    this.log('warn', { code: error.code, retryable: error.retryable }, error.message)
    this.emitter.emit('error', error)
  }

  protected log(level: keyof Logger, context: Record<string, unknown>, message: string): void {
    const logger = this.options.logger
    if (logger === undefined) return
    try {
      logger[level]?.(context, message)
    } catch {
      // A broken logger must not break the connection.
    }
  }
}

function describeClose(code: number, reason: string): string {
  return reason === '' ? `close code ${code}` : `close code ${code}: ${reason}`
}

function checkChannel(channel: string): void {
  const parsed = ChannelName.safeParse(channel)
  if (!parsed.success) {
    throw new ParleyError({
      code: 'bad_request',
      message: `invalid channel name ${JSON.stringify(channel)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    })
  }
}

function checkPosition(position: StreamPosition): StreamPosition {
  const parsed = StreamPosition.safeParse(position)
  if (!parsed.success) {
    throw new ParleyError({
      code: 'bad_request',
      message: `invalid since position: ${describeIssues('subscribe', parsed.error)}`,
    })
  }
  return { offset: parsed.data.offset, epoch: parsed.data.epoch }
}

function checkIdempotencyKey(key: string): string {
  if (!IdempotencyKey.safeParse(key).success) {
    throw new ParleyError({ code: 'bad_request', message: 'idempotencyKey must be 1-128 characters' })
  }
  return key
}

function checkData(data: unknown): asserts data is NonNullable<unknown> | null {
  // JSON has no undefined: the field would vanish and the gateway would reject the frame.
  if (data === undefined) throw new ParleyError({ code: 'bad_request', message: 'data is required' })
}

type IssueList = Parameters<typeof describeIssues>[1]

/** The part of a zod schema used here; typed structurally so the client needs no direct zod import. */
interface ResultSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: IssueList }
}

export function parseResult<T>(schema: ResultSchema<T>, result: Record<string, unknown>, type: string): T {
  const parsed = schema.safeParse(result)
  if (parsed.success) return parsed.data
  throw new ParleyError({
    code: 'invalid_frame',
    message: `invalid ${type} reply from the gateway: ${describeIssues(type, parsed.error)}`,
  })
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null
  socket.onmessage = null
  socket.onclose = null
  // Keep an error handler: `ws` throws on an error event nobody listens to.
  socket.onerror = noop
}

/**
 * Cuts the socket without waiting for the peer. Only `ws` (Node) has `terminate()`; there it matters, because
 * a socket waiting for a close frame that never comes keeps a 30 s timer that stops the process from exiting.
 * Browsers clean up on their own.
 */
function terminate(socket: WebSocketLike): void {
  const withTerminate = socket as WebSocketLike & { terminate?: unknown }
  if (typeof withTerminate.terminate !== 'function') return
  try {
    withTerminate.terminate()
  } catch {
    // Already gone.
  }
}

function closeGracefully(socket: WebSocketLike): Promise<void> {
  return new Promise((resolve) => {
    detach(socket)
    if (socket.readyState === 3) {
      resolve()
      return
    }
    const timer = setTimeout(() => {
      // No answer to the closing handshake: cut the socket rather than let it linger (see `terminate`).
      terminate(socket)
      resolve()
    }, CLOSE_GRACE_MS)
    socket.onclose = () => {
      clearTimeout(timer)
      resolve()
    }
    try {
      socket.close(CLOSE_CODES.normal.code, 'client closed')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}
