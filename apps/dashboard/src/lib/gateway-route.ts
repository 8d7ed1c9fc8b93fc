import { NextResponse } from 'next/server'
import { readEnv } from '../env'
import { createGatewayClient, type GatewayClient } from './gateway-client'
import { type GatewayResult, httpStatusOf } from './gateway-result'
import { clearedSessionCookieOptions, isHttpsRequest, SESSION_COOKIE } from './session-cookie'

/** Reads the session cookie of a `Cookie` header without trusting anything else in it. */
export function sessionTokenOf(request: Request): string | undefined {
  const header = request.headers.get('cookie')
  if (header === null) return undefined
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === SESSION_COOKIE) return value.join('=') || undefined
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
  const gateway = createGatewayClient({ baseUrl: readEnv().gatewayUrl, token: sessionTokenOf(request) })
  return answerWithResult(request, await call(gateway))
}
