import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { isOriginAllowed } from '../http/origin.js'

/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600

/**
 * CORS for `/poll/*`: a page on an allowed origin reaches the polling endpoints from another origin than the
 * gateway's. Only allowed origins get the `Access-Control-*` headers; the origin check before this refuses the
 * others (their preflight included) with 403. No credentials mode: the token travels in `hello` or in an
 * `Authorization` header, never in a cookie or the URL.
 */
export function pollingCors(allowedOrigins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: (origin) => (origin !== '' && isOriginAllowed(origin, allowedOrigins) ? origin : null),
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Authorization'],
    maxAge: PREFLIGHT_MAX_AGE_S,
  })
}
