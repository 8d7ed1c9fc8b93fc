// When and how soon the client reconnects, and what a close that stops it means.
import { CLOSE_CODES, closeReasonOf, type ErrorCode, shouldReconnect } from '@parley/protocol'
import { fullJitterDelay, shutdownDelay } from './backoff.js'
import { ParleyError } from './errors.js'
import type { PushClientOptions } from './push-client-types.js'
import { describeClose } from './sockets.js'
import { MAX_TIMER_DELAY_MS } from './timers.js'

interface ReconnectSettings {
  initialDelayMs: number
  maxDelayMs: number
  maxAttempts: number
  resetAfterMs: number
}

const DEFAULT_RECONNECT: ReconnectSettings = {
  initialDelayMs: 500,
  maxDelayMs: 20_000,
  maxAttempts: Infinity,
  resetAfterMs: 5_000,
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
 * The reconnect decisions: the attempt count (it starts over only once a connection lasted `resetAfterMs`),
 * each attempt's full-jitter delay (or the gateway's `shutdown` / `retryAfterMs` wishes), and the error a
 * client that gives up stops with.
 */
export class ReconnectPolicy {
  /** The last connection-level `error` frame; explains the close that usually follows it. */
  lastServerError: ParleyError | undefined
  private readonly settings: ReconnectSettings | false
  private attempt = 0
  /** When the current connection became `connected`; decides whether its loss starts the backoff over. */
  private connectedAt: number | undefined
  private shutdownReconnectAfterMs: number | undefined

  constructor(
    option: PushClientOptions['reconnect'],
    private readonly random: () => number,
  ) {
    this.settings = reconnectSettings(option)
  }

  get attempts(): number {
    return this.attempt
  }

  /** A new life (`connect()` after `disconnected` or `closed`). */
  restart(): void {
    this.attempt = 0
  }

  newSocket(): void {
    this.lastServerError = undefined
  }

  welcomed(): void {
    this.lastServerError = undefined
    this.shutdownReconnectAfterMs = undefined
  }

  connected(): void {
    this.connectedAt = Date.now()
  }

  /** The gateway drains: the next attempt waits at least `reconnectAfterMs`. */
  shutdown(reconnectAfterMs: number): void {
    this.shutdownReconnectAfterMs = reconnectAfterMs
  }

  /** After a loss: whether the close code refuses this client, and whether it reconnects. */
  afterLoss(code: number, wasConnected: boolean): { refused: boolean; willReconnect: boolean } {
    const settings = this.settings
    // Only a connection that lasted starts the backoff over; one lost right after its welcome counts as one
    // more failed attempt, or a gateway that welcomes and then drops everyone would be hammered.
    if (
      wasConnected &&
      settings !== false &&
      this.connectedAt !== undefined &&
      Date.now() - this.connectedAt >= settings.resetAfterMs
    ) {
      this.attempt = 0
    }
    const refused = !shouldReconnect(code)
    const attemptsLeft = settings !== false && this.attempt < settings.maxAttempts
    return { refused, willReconnect: settings !== false && !refused && attemptsLeft }
  }

  /** Counts the next attempt and the delay before it. */
  nextAttempt(): { attempt: number; delayMs: number } | undefined {
    if (this.settings === false) return undefined
    this.attempt += 1
    let delayMs = fullJitterDelay(this.attempt - 1, this.settings, this.random)
    if (this.shutdownReconnectAfterMs !== undefined) {
      delayMs = shutdownDelay(this.shutdownReconnectAfterMs, this.settings.initialDelayMs, this.random)
      this.shutdownReconnectAfterMs = undefined
    }
    // server_full and rate limits say when to come back; arriving earlier would only be refused again.
    const retryAfterMs = this.lastServerError?.retryAfterMs
    if (retryAfterMs !== undefined) delayMs = Math.max(delayMs, retryAfterMs)
    return { attempt: this.attempt, delayMs: Math.min(delayMs, MAX_TIMER_DELAY_MS) }
  }

  /** How long to wait before retrying a resubscribe after `failures` transient failures on one connection. */
  retryDelay(failures: number, retryAfterMs: number | undefined): number {
    const backoff = this.settings === false ? DEFAULT_RECONNECT : this.settings
    return Math.min(
      MAX_TIMER_DELAY_MS,
      Math.max(retryAfterMs ?? 0, fullJitterDelay(failures - 1, backoff, this.random)),
    )
  }

  /**
   * The error a client that stops for good rejects `connect()` and pending requests with; `fresh` when it was
   * not reported yet (an error frame that explains the close was, when it arrived).
   */
  finalError(
    code: number,
    reason: string,
    refused: boolean,
    wasConnected: boolean,
  ): { error: ParleyError; fresh: boolean } {
    if (refused && code !== CLOSE_CODES.normal.code) {
      // The error frame before a refusal explains it; an unrelated earlier one must not stand in for it.
      const expected = errorCodesForClose(code)
      if (this.lastServerError !== undefined && expected.includes(this.lastServerError.code)) {
        return { error: this.lastServerError, fresh: false }
      }
      const error = new ParleyError({
        code: expected[0],
        message: `the gateway refused the connection (${describeClose(code, reason)})`,
        retryable: false,
      })
      return { error, fresh: true }
    }
    if (this.settings !== false && !refused) {
      const error = new ParleyError({
        code: 'unavailable',
        message: `gave up after ${this.attempt} reconnect attempts (last: ${describeClose(code, reason)})`,
      })
      return { error, fresh: true }
    }
    // Reconnecting is off: during the handshake an error frame (server_full, ...) is the best explanation.
    if (!wasConnected && this.lastServerError !== undefined)
      return { error: this.lastServerError, fresh: false }
    const error = new ParleyError({
      code: 'unavailable',
      message: `connection closed (${describeClose(code, reason)})`,
    })
    return { error, fresh: false }
  }
}
