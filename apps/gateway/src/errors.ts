import type { ErrorCode } from '@parley/protocol'

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
