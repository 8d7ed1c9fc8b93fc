import type { IncomingMessage } from 'node:http'
import { ERROR_CODES, type ErrorCode } from '@parley/protocol'
import { StoreError } from '@parley/stores'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Logger } from 'pino'
import type { Principal } from '../auth/auth-provider.js'
import { GatewayError } from '../errors.js'
import { errorResponse } from './error-envelope.js'
import { rejectNulInUrl } from './reject-nul.js'

/**
 * Bindings of @hono/node-server (absent when the app is driven with `app.request()` in tests), and the
 * variables the admin guard sets: who is calling, and what an admin route did (for its audit row).
 */
export type GatewayEnv = {
  Bindings: { incoming?: IncomingMessage }
  Variables: { principal: Principal; adminAction: string }
}
export type GatewayApp = Hono<GatewayEnv>

const STATUS_TO_CODE = new Map<number, ErrorCode>(
  Object.entries(ERROR_CODES).map(([code, entry]) => [entry.status, code as ErrorCode]),
)

/**
 * The app factory: one log line per request and one error handler that maps domain errors to the protocol's
 * envelope. Unexpected errors become a bare 500 `internal`; their details go to the log only.
 */
export function createHttpApp(logger: Logger): GatewayApp {
  const app = new Hono<GatewayEnv>()

  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    // Path only: query strings may carry values we must not log.
    logger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'http request',
    )
  })

  app.use(rejectNulInUrl)

  app.onError((error, c) => {
    if (error instanceof GatewayError) return errorResponse(c, error.code, error.message, error.retryAfterMs)
    if (error instanceof StoreError && ERROR_CODES[error.code].status < 500) {
      return errorResponse(c, error.code, error.message)
    }
    if (error instanceof HTTPException && error.status < 500) {
      return errorResponse(
        c,
        STATUS_TO_CODE.get(error.status) ?? 'bad_request',
        error.message || 'bad request',
      )
    }
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error in http handler')
    return errorResponse(c, 'internal', 'internal server error')
  })

  app.notFound((c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`))

  return app
}
