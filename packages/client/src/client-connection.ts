import {
  CLOSE_CODES,
  type ClientFrame,
  encodeFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '@parley/protocol'
import { ClientWaiters } from './client-waiters.js'
import { ParleyError } from './errors.js'
import { Handshake } from './handshake.js'
import { Liveness } from './liveness.js'
import { abortedError, PendingRequests, type RequestBody } from './pending-requests.js'
import type {
  CallOptions,
  ConnectionState,
  Logger,
  PushClientEvents,
  PushClientOptions,
  WelcomeInfo,
} from './push-client-types.js'
import { ReconnectPolicy } from './reconnect-policy.js'
import { parseServerText } from './server-frames.js'
import { closeGracefully, describeClose, detach, listen, terminate } from './sockets.js'
import { type TransportName, TransportSelector } from './transport-selector.js'
import { TypedEmitter } from './typed-emitter.js'
import {
  resolveWebSocket,
  WEBSOCKET_OPEN,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.js'

// How soon a move back to WebSocket is tried again while requests are in flight.
const TRANSPORT_SWITCH_RETRY_MS = 50

/**
 * The connection half of `PushClient`: the state machine (`disconnected` → `connecting` → `connected` →
 * `closed`), the socket and its handshake, heartbeats, reconnects with full-jitter backoff, and requests that
 * settle exactly once. What flows over the connection (channels, messages) is `PushClient`'s, through the
 * abstract hooks below.
 */
export abstract class ClientConnection {
  readonly url: string

  protected readonly requestTimeoutMs: number
  protected readonly emitter: TypedEmitter<PushClientEvents>
  protected readonly waiters = new ClientWaiters()

  private readonly options: PushClientOptions
  private readonly reconnect: ReconnectPolicy
  private readonly requests: PendingRequests
  private readonly handshake: Handshake
  private readonly liveness: Liveness
  private readonly transports: TransportSelector

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
  /** The socket closing handshake of the last `close()`, so a second `close()` waits for it too. */
  private closing: Promise<void> = Promise.resolve()

  private reconnectTimer: ReturnType<typeof setTimeout> | undefined

  constructor(url: string, options: PushClientOptions = {}) {
    this.url = url
    this.options = options
    this.reconnect = new ReconnectPolicy(options.reconnect, options.random ?? Math.random)
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000
    this.assignedClientId = options.clientId
    this.emitter = new TypedEmitter<PushClientEvents>((event, error) => {
      this.log('error', { event, error: String(error) }, 'an event listener threw; the client carries on')
    })
    this.requests = new PendingRequests((frame) => this.sendFrame(frame))
    this.handshake = new Handshake(options, {
      emitter: this.emitter,
      currentSocket: () => this.socket,
      isWelcomed: () => this.welcomed,
      clientId: () => this.assignedClientId,
      sendFrame: (frame) => this.sendFrame(frame),
      abort: (code, reason) => this.abortSocket(code, reason),
      stop: (error) => this.toClosed(error),
      reportError: (error) => this.reportError(error),
      log: (level, context, message) => this.log(level, context, message),
    })
    this.liveness = new Liveness((limitMs) =>
      this.abortSocket(
        CLOSE_CODES.heartbeat_timeout.code,
        `nothing received for ${limitMs} ms (2.5 heartbeat intervals)`,
      ),
    )
    this.transports = new TransportSelector({
      fallbackToPolling: options.fallbackToPolling ?? true,
      probeIntervalMs: options.websocketProbeIntervalMs ?? 30_000,
      probeTimeoutMs: this.handshake.websocketOpenTimeoutMs,
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

  /**
   * Connects and resolves with the gateway's welcome once every earlier subscription is in place. Failed
   * attempts are retried with backoff while reconnecting is on; it rejects only when the client stops for
   * good (refused credentials, `close()`, reconnecting off or out of attempts).
   */
  connect(): Promise<WelcomeInfo> {
    if (this.currentState === 'connected' && this.welcome !== undefined) return Promise.resolve(this.welcome)
    const promise = this.waiters.connect()
    if (this.currentState === 'disconnected' || this.currentState === 'closed') {
      if (this.currentState === 'closed') this.waiters.reopened()
      this.reconnect.restart()
      this.setState('connecting')
      void this.openSocket()
    }
    return promise
  }

  /** Closes the connection for good: no reconnect; pending requests reject. Resolves once the socket closed. */
  close(): Promise<void> {
    if (this.currentState === 'closed') return this.closing
    // A later connect() starts a new session: the gateway must not restore channels given up meanwhile.
    this.handshake.resumeSessionId = undefined
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
    return this.waiters.waitClosed()
  }

  // ------------------------------------------------------------------ subclass hooks

  /** Whether the current connection has been welcomed (requests go out now). */
  protected get isWelcomed(): boolean {
    return this.welcomed
  }

  /** The current socket, undefined between two: tells one connection from the next. */
  protected get currentSocket(): WebSocketLike | undefined {
    return this.socket
  }

  /** The connection went away (a reconnect may follow) or the client closed: in-flight work is over. */
  protected connectionLost(_reason: string): void {}

  /**
   * After a welcome (`resumed`: the gateway resumed the session): restores the channels (and what else the
   * subclasses hold); resolves once done, with what to run just before the client turns `connected`.
   */
  protected abstract prepareConnection(info: WelcomeInfo, resumed: boolean): Promise<() => void>

  /** The frames past the handshake and requests: channel, direct, broadcast and presence messages, ... */
  protected abstract handleMessageFrame(frame: ServerFrame): void

  /** The connection is over: per-connection work (queued acks, resubscribe retries) is dropped. */
  protected abstract connectionEnded(): void

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
    return this.requests.add(body, options.timeoutMs ?? this.requestTimeoutMs, options, this.welcomed)
  }

  /** How long to wait before retrying a resubscribe after `failures` transient failures on one connection. */
  protected retryDelay(failures: number, retryAfterMs: number | undefined): number {
    return this.reconnect.retryDelay(failures, retryAfterMs)
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
    this.reconnect.newSocket()
    this.log('debug', { url: this.url, attempt: this.reconnect.attempts }, 'opening socket')
    listen(socket, {
      isCurrent: () => this.socket === socket,
      opened: () => {
        this.transports.opened(socket)
        if (this.socket === socket) this.handshake.opened()
      },
      text: (text) => this.handleText(text),
      closed: (code, reason) => this.handleSocketLost(code, reason),
    })
    this.handshake.begin(socket, this.transports.current === 'websocket')
  }

  private handleWelcome(frame: WelcomeFrame): void {
    if (this.currentState !== 'connecting' || this.welcomed) return
    const { type: _type, id: _id, ...info } = frame
    const resumed = this.handshake.welcomed(info)
    this.welcome = info
    this.assignedClientId = info.clientId
    this.welcomed = true
    this.reconnect.welcomed()
    this.liveness.start(info.heartbeatIntervalMs)
    this.log('debug', { sessionId: info.sessionId, clientId: info.clientId }, 'welcomed')
    if (this.WebSocketImpl !== undefined) this.transports.welcomed(this.url, this.WebSocketImpl)

    const socket = this.socket
    this.requests.sendQueued()
    const ready = this.prepareConnection(info, resumed)
    void ready.then((reportFailures) => {
      // The connection may have gone again while the subscriptions were being restored.
      if (this.socket !== socket || !this.welcomed) return
      reportFailures()
      // Only now is the client `connected`: the backoff starts over once this connection has lasted.
      this.reconnect.connected()
      this.setState('connected')
      // A `state` listener may have closed the client already.
      if (this.currentState !== 'connected') return
      this.log('info', { sessionId: info.sessionId, clientId: info.clientId }, 'connected')
      this.waiters.connected(info)
      this.emitter.emit('connect', info)
    })
  }

  /**
   * A WebSocket works again while on polling: reconnect over it, at a moment with no request in flight (a
   * request sent on the old connection would fail with it). Subscriptions resume from their positions.
   */
  private moveToWebSocket(): void {
    if (this.currentState !== 'connected' || this.socket === undefined) return
    if (this.requests.anySent()) {
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
    const pollingCheckNow = this.transports.lost(this.socket)
    this.socket = undefined
    this.welcomed = false
    this.clearConnectionTimers()
    this.requests.rejectAll(
      new ParleyError({
        code: 'unavailable',
        message: `connection lost (${describeClose(code, reason)})`,
        retryable: true,
      }),
      true,
    )
    this.connectionLost(`connection lost (${describeClose(code, reason)})`)
    if (this.currentState !== 'connecting' && this.currentState !== 'connected') return

    const { refused, willReconnect } = this.reconnect.afterLoss(code, wasConnected)
    this.log('info', { code, reason, willReconnect }, 'disconnected')
    if (wasConnected) this.emitter.emit('disconnect', { code, reason, willReconnect })
    // A listener may have called close() (or connect() after it): that decision stands.
    if (this.currentState !== 'connected' && this.currentState !== 'connecting') return

    if (willReconnect) {
      if (wasConnected) this.setState('connecting')
      if (this.currentState !== 'connecting') return
      void (pollingCheckNow ? this.openSocket() : this.scheduleReconnect())
      return
    }

    const { error, fresh } = this.reconnect.finalError(code, reason, refused, wasConnected)
    if (fresh) this.reportError(error)
    this.toClosed(error)
  }

  private scheduleReconnect(): void {
    const next = this.reconnect.nextAttempt()
    if (next === undefined) return
    const { delayMs } = next
    this.emitter.emit('reconnecting', next)
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
    this.requests.rejectAll(error, false)
    this.connectionLost(error.message)
    this.waiters.closedWith(error)
  }

  private clearConnectionTimers(): void {
    this.handshake.stopTimers()
    this.liveness.stop()
    this.connectionEnded()
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
    this.liveness.received()
    if (text === undefined) return
    const parsed = parseServerText(text)
    if (!('frame' in parsed)) {
      const error = new ParleyError({
        code: 'invalid_frame',
        message: `invalid frame from the gateway: ${parsed.problem}`,
      })
      if (parsed.id === undefined || !this.requests.settle(parsed.id, { error })) this.reportError(error)
      return
    }
    const { frame } = parsed
    if (this.handshake.handleFrame(frame)) return
    switch (frame.type) {
      case 'welcome':
        this.handleWelcome(frame)
        return
      case 'reply':
        this.requests.settle(frame.id, { result: frame.result })
        return
      case 'error':
        this.handleError(ParleyError.fromBody(frame), frame.id)
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
        this.reconnect.shutdown(frame.reconnectAfterMs)
        return
      default:
        this.handleMessageFrame(frame)
    }
  }

  private handleError(error: ParleyError, id: string | undefined): void {
    if (id !== undefined && this.requests.settle(id, { error })) return
    // Not tied to a request: about the connection (refused credentials, server full) or a frame we sent.
    // A late answer to a request that already timed out says nothing about the connection: it must not
    // explain the next close or delay the next reconnect by its retryAfterMs.
    if (id === undefined && this.handshake.resumeRefused(error)) return
    if (id === undefined) this.reconnect.lastServerError = error
    this.reportError(error)
    // Before the welcome, an error that is not retryable refuses our hello (a malformed client id, a token
    // over the size limit...). The gateway may keep the socket open without answering; sending the same
    // hello again would fail the same way, so the client stops instead of retrying forever.
    if (!this.welcomed && id === undefined && !error.retryable) this.toClosed(error)
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
