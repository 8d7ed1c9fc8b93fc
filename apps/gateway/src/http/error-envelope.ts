import { ERROR_CODES, type ErrorCode, errorBody, type HttpError } from '@parley/protocol'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The one HTTP error answer: the protocol's envelope with the status from the error-code table. */
export function errorResponse(c: Context, code: ErrorCode, message: string, retryAfterMs?: number): Response {
  const body: HttpError = { error: errorBody(code, message, retryAfterMs) }
  const status = ERROR_CODES[code].status as ContentfulStatusCode
  if (retryAfterMs !== undefined) c.header('Retry-After', String(Math.ceil(retryAfterMs / 1000)))
  return c.json(body, status)
}
