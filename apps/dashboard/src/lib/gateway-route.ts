import { NextResponse } from 'next/server'
import { readEnv } from '../env'
import { createGatewayClient, type GatewayClient } from './gateway-client'
import { failed, type GatewayResult, httpStatusOf } from './gateway-result'
import { isSameOriginRequest } from './same-origin'
import { clearedSessionCookieOptions, isHttpsRequest, normaliseToken, SESSION_COOKIE } from './session-cookie'

/**
 * Reads the session cookie of a `Cookie` header without trusting anything else in it. Next writes cookie
 * values URL-encoded (a token with `+`, `/` or `=` is stored as `%2B`, `%2F`, `%3D`), so it is decoded the
 * way `cookies()` does, or a server page and a route handler would send the gateway different tokens.
 */
export function sessionTokenOf(request: Request): string | undefined {
  const header = request.headers.get('cookie')
  if (header === null) return undefined
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name !== SESSION_COOKIE) continue
    const raw = value.join('=')
    try {
      return normaliseToken(decodeURIComponent(raw))
    } catch {
      return undefined
    }
  }
  return undefined
}

/** Answers with a `GatewayResult` as JSON; the browser parses it with `gatewayResultSchema`. */
export function answerWithResult(request: Request, result: GatewayResult<unknown>): Response {
  const response = NextResponse.json(result, {
    status: httpStatusOf(result),
    headers: { 'cache-control': 'no-store' },
  })
  if (!result.ok && result.failure.kind === 'unauthorized') {
    // The token no longer works: drop it so the next page load goes straight to the login page.
    const secure = isHttpsRequest(new URL(request.url), request.headers)
    response.cookies.set(SESSION_COOKIE, '', clearedSessionCookieOptions(secure))
  }
  return response
}

/** Body of every `/api/gw/*` route: call the gateway with the session's token, answer with the result. */
export async function answerFromGateway(
  request: Request,
  call: (gateway: GatewayClient) => Promise<GatewayResult<unknown>>,
): Promise<Response> {
  const token = sessionTokenOf(request)
  // The proxy already refuses these routes without a cookie; checked again so no route handler ever calls
  // the gateway (not even its public `/health`) for someone who is not logged in.
  if (token === undefined) {
    return answerWithResult(request, failed({ kind: 'unauthorized', message: 'not logged in' }))
  }
  const gateway = createGatewayClient({ baseUrl: readEnv().gatewayUrl, token })
  return answerWithResult(request, await call(gateway))
}

/**
 * Body of the `/api/gw/*` routes that change something on the gateway (requeue, purge). The session cookie
 * is `SameSite=Strict`, and a cross-site request is refused here too, before the gateway is called: a page
 * elsewhere must not be able to purge the operator's dead-letter queue.
 */
export function answerActionFromGateway(
  request: Request,
  call: (gateway: GatewayClient) => Promise<GatewayResult<unknown>>,
): Promise<Response> | Response {
  if (!isSameOriginRequest(request.headers)) {
    return answerWithResult(
      request,
      failed({
        kind: 'http',
        status: 403,
        code: 'cross_site_request',
        message: 'cross-site requests are refused',
      }),
    )
  }
  return answerFromGateway(request, call)
}

/** A 400 answer for a request the route refused before calling the gateway. */
export function answerInvalid(request: Request, code: string, message: string): Response {
  return answerWithResult(request, failed({ kind: 'http', status: 400, code, message }))
}
