import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@parley/protocol'

export interface ParleyErrorInit {
  code: ErrorCode
  message: string
  /** Defaults to the protocol table's flag for `code`. */
  retryable?: boolean
  retryAfterMs?: number
  /** The underlying failure, e.g. what a message handler threw. */
  cause?: unknown
}

/**
 * Every failure the client reports: a server `error` frame, a lost connection, a refused handshake.
 * `code` is one of the protocol's error codes, so callers can branch on it the same way for every source.
 */
export class ParleyError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(init: ParleyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'ParleyError'
    this.code = init.code
    this.retryable = init.retryable ?? ERROR_CODES[init.code].retryable
    this.retryAfterMs = init.retryAfterMs
  }

  /** Builds the error a server `error` frame (or an HTTP error body) describes. */
  static fromBody(body: ErrorBody): ParleyError {
    const init: ParleyErrorInit = { code: body.code, message: body.message, retryable: body.retryable }
    if (body.retryAfterMs !== undefined) init.retryAfterMs = body.retryAfterMs
    return new ParleyError(init)
  }
}

/**
 * A request, `waitFor` or handshake that got no answer in time. It is a `ParleyError` with code `timeout`
 * so one `catch (e instanceof ParleyError)` handles every failure, and `name === 'TimeoutError'` so it can
 * be told apart without importing the class.
 */
export class TimeoutError extends ParleyError {
  constructor(message: string) {
    super({ code: 'timeout', message, retryable: true })
    this.name = 'TimeoutError'
  }
}
