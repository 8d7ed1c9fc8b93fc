// Everything before the `welcome`: the `hello` (credentials, device pairing, session resume), the identity
// challenge, the operator's pairing decision, and the timers that give an attempt up.
import {
  type AuthenticateFrame,
  type ChallengeFrame,
  CLOSE_CODES,
  type ClientFrame,
  type HelloFrame,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@parley/protocol'
import { ParleyError } from './errors.js'
import { type AgentIdentity, signChallenge } from './identity.js'
import type { Logger, PushClientEvents, PushClientOptions, WelcomeInfo } from './push-client-types.js'
import { Deadline } from './timers.js'
import type { TypedEmitter } from './typed-emitter.js'
import { CLIENT_NAME, CLIENT_VERSION } from './version.js'
import type { WebSocketLike } from './websocket.js'

// The gateway expires a device pairing request after 5 minutes; half a minute more covers clock and latency.
const DEFAULT_PAIRING_TIMEOUT_MS = 330_000
/** Attempts that time out in a row double the next one's timeouts, up to this many times the options'. */
const MAX_TIMEOUT_STRETCH = 8

/** What the handshake needs from the connection. */
export interface HandshakeHost {
  readonly emitter: TypedEmitter<PushClientEvents>
  currentSocket(): WebSocketLike | undefined
  isWelcomed(): boolean
  clientId(): string | undefined
  sendFrame(frame: ClientFrame): boolean
  /** Drops the socket on our side and handles it as lost (a timeout). */
  abort(code: number, reason: string): void
  /** Stops the client for good. */
  stop(error: ParleyError): void
  reportError(error: ParleyError): void
  log(level: keyof Logger, context: Record<string, unknown>, message: string): void
}

export class Handshake {
  /** How long a WebSocket may take to open (a proxy that swallows the upgrade never answers). */
  readonly websocketOpenTimeoutMs: number
  /** The session a reconnect asks to resume (the last welcome's), until the gateway refuses it. */
  resumeSessionId: string | undefined
  /** The token sent in `hello.auth.token`: the option's, or the device token the operator's approval gave. */
  private authToken: string | undefined
  /** The current socket's hello asked for device pairing: only then are pairing frames before welcome expected. */
  private pairingRequested = false
  /** The current socket's hello carried `resume`. */
  private resumeRequested = false
  /** Attempts in a row given up on a timeout (open or welcome) since the last welcome: stretches the next's. */
  private timedOutInARow = 0
  private readonly connectTimer = new Deadline()
  /** Gives up a WebSocket attempt that does not open in time, so the next attempt can use polling. */
  private readonly openTimer = new Deadline()
  private readonly connectTimeoutMs: number
  private readonly pairingTimeoutMs: number
  /** With the polling fallback on, a WebSocket that has not opened in time is given up for polling. */
  private readonly fallbackToPolling: boolean

  constructor(
    private readonly options: PushClientOptions,
    private readonly host: HandshakeHost,
  ) {
    this.authToken = options.authToken
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.pairingTimeoutMs = options.pairingTimeoutMs ?? DEFAULT_PAIRING_TIMEOUT_MS
    this.fallbackToPolling = options.fallbackToPolling ?? true
    this.websocketOpenTimeoutMs = Math.min(options.websocketOpenTimeoutMs ?? 5_000, this.connectTimeoutMs)
  }

  /** The frames of the handshake: true when `frame` was one. */
  handleFrame(frame: ServerFrame): boolean {
    switch (frame.type) {
      case 'challenge':
        void this.answerChallenge(frame)
        return true
      case 'pairing_pending':
        this.pairingPending(frame.requestId, frame.expiresAt)
        return true
      case 'pairing_approved':
        this.pairingApproved(frame.token, frame.deviceId, frame.requestId)
        return true
      default:
        return false
    }
  }

  /** A new socket (`websocket`: the attempt's transport is WebSocket): its hello has asked for nothing yet. */
  begin(socket: WebSocketLike, websocket: boolean): void {
    this.pairingRequested = false
    this.resumeRequested = false
    this.armConnectTimer()
    this.openTimer.clear()
    if (!this.fallbackToPolling || !websocket) return
    const openTimeoutMs = this.stretched(this.websocketOpenTimeoutMs)
    const note = this.stretchNote()
    this.openTimer.set(openTimeoutMs, () => {
      if (this.host.currentSocket() !== socket || socket.readyState !== 0) return
      this.timedOutInARow += 1
      this.host.abort(
        CLOSE_CODES.handshake_timeout.code,
        `the WebSocket did not open within ${openTimeoutMs} ms (websocketOpenTimeoutMs ${this.websocketOpenTimeoutMs}${note})`,
      )
    })
  }

  opened(): void {
    this.openTimer.clear()
    this.host.log('debug', {}, 'socket open')
    this.host.sendFrame(this.hello())
  }

  /** Whether the welcome resumed the session this hello asked for; the next hello asks for this one. */
  welcomed(info: WelcomeInfo): boolean {
    this.connectTimer.clear()
    this.timedOutInARow = 0
    const resumed = info.resumed === true && this.resumeRequested
    this.resumeRequested = false
    this.resumeSessionId = info.sessionId
    return resumed
  }

  stopTimers(): void {
    this.connectTimer.clear()
    this.openTimer.clear()
  }

  /**
   * An error frame tied to no request, before the welcome: true when it refused the session resume, which is
   * then given up (the session never was ours, or the gateway no longer agrees) and `hello` said anew.
   */
  resumeRefused(error: ParleyError): boolean {
    if (this.host.isWelcomed() || !this.resumeRequested || error.code !== 'forbidden') return false
    this.host.log('info', { sessionId: this.resumeSessionId }, 'session resume refused; saying hello anew')
    this.resumeSessionId = undefined
    this.resumeRequested = false
    this.host.sendFrame(this.hello())
    return true
  }

  /** Signs the gateway's nonce (with our clock's timestamp) and answers with `authenticate`. */
  private async answerChallenge(frame: ChallengeFrame): Promise<void> {
    const identity = this.options.identity
    if (identity === undefined || this.host.isWelcomed()) {
      this.host.log('warn', {}, 'ignored a challenge the client did not ask for')
      return
    }
    const socket = this.host.currentSocket()
    let answer: AuthenticateFrame
    try {
      answer = await authenticateFrame(identity, frame.nonce)
    } catch (error) {
      if (this.host.currentSocket() !== socket) return
      // The key cannot sign (no Ed25519 in this runtime) or the nonce is malformed: retrying changes nothing.
      const failure =
        error instanceof ParleyError
          ? error
          : new ParleyError({ code: 'internal', message: `signing the challenge failed: ${String(error)}` })
      this.host.reportError(failure)
      this.host.stop(failure)
      return
    }
    // The connection may have gone while signing; its nonce is worthless on another one.
    if (this.host.currentSocket() !== socket || this.host.isWelcomed()) return
    this.host.sendFrame(answer)
  }

  /** The operator has the request: wait for the decision (up to `pairingTimeoutMs`), not `connectTimeoutMs`. */
  private pairingPending(requestId: string, expiresAt: number): void {
    if (!this.pairingRequested || this.host.isWelcomed()) return
    const { pairingTimeoutMs } = this
    this.connectTimer.set(pairingTimeoutMs, () => {
      const error = new ParleyError({
        code: 'pairing_expired',
        message: `the pairing request ${requestId} was not decided within pairingTimeoutMs (${pairingTimeoutMs} ms)`,
      })
      this.host.reportError(error)
      this.host.stop(error)
    })
    this.host.log('info', { requestId, expiresAt }, 'waiting for the operator to approve this device')
    this.host.emitter.emit('pairing_pending', { requestId, expiresAt })
  }

  /** Approved: the device token joins any identity in every later hello; `welcome` follows (after the challenge with an identity). */
  private pairingApproved(token: string, deviceId: string, requestId: string): void {
    if (!this.pairingRequested || this.host.isWelcomed()) return
    this.pairingRequested = false
    this.authToken = token
    this.armConnectTimer()
    this.host.log('info', { requestId, deviceId }, 'device pairing approved')
    this.host.emitter.emit('device_token', { token, deviceId, requestId })
  }

  private armConnectTimer(): void {
    const timeoutMs = this.stretched(this.connectTimeoutMs)
    const note = this.stretchNote()
    this.connectTimer.set(timeoutMs, () => {
      this.timedOutInARow += 1
      this.host.abort(
        CLOSE_CODES.handshake_timeout.code,
        `no welcome within ${timeoutMs} ms (connectTimeoutMs ${this.connectTimeoutMs}${note})`,
      )
    })
  }

  /**
   * An attempt's timeout after `timedOutInARow` attempts in a row timed out: doubled for each, up to
   * `MAX_TIMEOUT_STRETCH` times the option. A gateway taking a reconnect herd drains its accept queue more
   * slowly than a fixed timeout allows, so every queued attempt would be one its client had given up;
   * waiting longer each time lets the herd get through (as TCP backs off its retransmission timeout).
   */
  private stretched(timeoutMs: number): number {
    return timeoutMs * Math.min(2 ** this.timedOutInARow, MAX_TIMEOUT_STRETCH)
  }

  private stretchNote(): string {
    return this.timedOutInARow === 0 ? '' : `, doubled after ${this.timedOutInARow} timed out in a row`
  }

  private hello(): HelloFrame {
    const hello: HelloFrame = {
      type: 'hello',
      protocol: { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
      client: { name: CLIENT_NAME, version: CLIENT_VERSION },
    }
    const clientId = this.host.clientId()
    if (clientId !== undefined) hello.clientId = clientId
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
}

/** Signs the gateway's nonce (with our clock's timestamp): the `authenticate` answer to its `challenge`. */
async function authenticateFrame(identity: AgentIdentity, nonce: string): Promise<AuthenticateFrame> {
  const signed = await signChallenge(identity, { nonce })
  return {
    type: 'authenticate',
    identity: signed.id,
    nonce: signed.nonce,
    timestamp: signed.timestamp,
    signature: signed.signature,
  }
}
