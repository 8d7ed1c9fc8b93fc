import { NextResponse } from 'next/server'
import { readEnv } from '@/env'
import { gatewayClientFor, sessionSecretOf } from './dashboard-gateway'
import type { GatewayClient } from './gateway-client'
import { failed, type GatewayResult, httpStatusOf } from './gateway-result'
import { clearedSessionCookieOptions, isHttpsRequest, SESSION_COOKIE } from './session-cookie'

/** The session secret of a request's cookie; undefined when there is none (or it is not one). */
export function sessionTokenOf(request: Request): string | undefined {
  return sessionSecretOf(request.headers.get('cookie'))
}

/** Answers with a `GatewayResult` as JSON; the browser parses it with `gatewayResultSchema`. */
export function answerWithResult(request: Request, result: GatewayResult<unknown>): Response {
  const response = NextResponse.json(result, {
    status: httpStatusOf(result),
    headers: { 'cache-control': 'no-store' },
  })
  if (!result.ok && result.failure.kind === 'unauthorized') {
    // The session no longer works: drop it so the next page load goes straight to the login page.
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
  const gateway = gatewayClientFor(readEnv(), token, request.headers)
  return answerWithResult(request, await call(gateway))
}

/** The 403 of a state-changing request from another site, refused before the gateway is called. */
export function crossSiteRefusal(request: Request): Response {
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

/** A 400 answer for a request the route refused before calling the gateway. */
export function answerInvalid(request: Request, code: string, message: string): Response {
  return answerWithResult(request, failed({ kind: 'http', status: 400, code, message }))
}
