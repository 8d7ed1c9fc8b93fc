import { ERROR_CODES, type ErrorBody, type ErrorCode, errorBody } from '@parley/protocol'
import { StoreError } from '@parley/stores'

/**
 * A typed failure inside the gateway. It is mapped once at the edge: to an HTTP status and envelope by the
 * app's error handler, or to an `error` frame on a connection.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message)
  }
}

/**
 * The one conversion from a thrown error to the wire's error body (an `error` frame, the HTTP envelope):
 * a `GatewayError` as it is, a store's client-side error (4xx) as it is. Anything else is ours or a
 * dependency's failure: undefined, and the caller answers its generic 5xx without the details.
 */
export function errorBodyOf(error: unknown): ErrorBody | undefined {
  if (error instanceof GatewayError) return errorBody(error.code, error.message, error.retryAfterMs)
  if (error instanceof StoreError && ERROR_CODES[error.code].status < 500) {
    return errorBody(error.code, error.message)
  }
  return undefined
}
