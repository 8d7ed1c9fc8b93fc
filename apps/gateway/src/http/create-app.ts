import { ERROR_CODES, type ErrorCode } from '@parley/protocol'
import { Hono, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Logger } from 'pino'
import { errorBodyOf } from '../errors.js'
import { type BodyLimitOptions, limitBody } from './body-limit.js'
import { errorResponse } from './error-envelope.js'
import type { GatewayApp, GatewayEnv } from './gateway-env.js'
import { rejectNulInUrl } from './reject-nul.js'

export type { AdminCredential, GatewayApp, GatewayEnv } from './gateway-env.js'

const STATUS_TO_CODE = new Map<number, ErrorCode>(
  Object.entries(ERROR_CODES).map(([code, entry]) => [entry.status, code as ErrorCode]),
)

/**
 * The app factory: one log line per request, one body limit for every route (see `limitBody`), and one error
 * handler that maps domain errors to the protocol's envelope. Unexpected errors become a bare 500
 * `internal`; their details go to the log only.
 */
export function createHttpApp(
  logger: Logger,
  bodyLimit: BodyLimitOptions,
  /**
   * Middleware that must run before the body limit, by path: e.g. the polling origin check and CORS, so that
   * a 413 to a browser page still carries its CORS headers and can be read.
   */
  beforeBodyLimit: ReadonlyArray<{ path: string; handlers: MiddlewareHandler<GatewayEnv>[] }> = [],
): GatewayApp {
  const app = new Hono<GatewayEnv>()

  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    // Path only: query strings may carry values we must not log.
    logger.info(
      {
        method: c.req.method,
        path: loggablePath(c.req.path),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'http request',
    )
  })
  for (const { path, handlers } of beforeBodyLimit) app.use(path, ...handlers)
  app.use(limitBody(bodyLimit))

  app.use(rejectNulInUrl)

  app.onError((error, c) => {
    const body = errorBodyOf(error)
    if (body !== undefined) return errorResponse(c, body.code, body.message, body.retryAfterMs)
    if (error instanceof HTTPException && error.status < 500) {
      return errorResponse(
        c,
        STATUS_TO_CODE.get(error.status) ?? 'bad_request',
        error.message || 'bad request',
      )
    }
    logger.error(
      { err: error, method: c.req.method, path: loggablePath(c.req.path) },
      'unhandled error in http handler',
    )
    return errorResponse(c, 'internal', 'internal server error')
  })

  app.notFound((c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`))

  return app
}

/**
 * Paths with a credential in them (the approval link's signed token); the prefix before it is kept. Other
 * secrets travel in headers and bodies, and query strings are not logged, so this is the only one.
 */
const SECRET_PATHS: readonly RegExp[] = [/^(\/pairing\/approve\/)[^/]+/]

/** The request path as logged: secret segments replaced by `[redacted]`. */
export function loggablePath(path: string): string {
  for (const pattern of SECRET_PATHS) {
    if (pattern.test(path)) return path.replace(pattern, '$1[redacted]')
  }
  return path
}
