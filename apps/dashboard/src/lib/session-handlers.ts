import { NextResponse } from 'next/server'
import type { DashboardEnv } from '../env'
import { createGatewayClient } from './gateway-client'
import { isSameOriginRequest } from './same-origin'
import {
  clearedSessionCookieOptions,
  isHttpsRequest,
  normaliseToken,
  SESSION_COOKIE,
  sessionCookieOptions,
} from './session-cookie'

/** Why a login failed, carried to the login page as `?error=`. */
export type LoginError = 'missing' | 'invalid' | 'not_admin' | 'unreachable' | 'gateway' | 'expired'

export interface LoginDeps {
  env: DashboardEnv
  fetch?: typeof fetch
}

// Relative Location headers: behind a proxy or on 127.0.0.1 vs localhost, the host the browser used is the
// only right one, and the browser resolves a relative redirect against it.
function seeOther(location: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location, 'cache-control': 'no-store' } })
}

function crossSiteRefusal(): NextResponse {
  return NextResponse.json(
    { error: { code: 'cross_site_request', message: 'cross-site requests are refused', retryable: false } },
    { status: 403 },
  )
}

async function tokenFromForm(request: Request): Promise<string | undefined> {
  try {
    return normaliseToken((await request.formData()).get('token'))
  } catch {
    return undefined
  }
}

/**
 * `POST /api/session` (the login form): checks the token against the gateway's `whoami`, then keeps it
 * in the session cookie and sends the browser to the overview. Failures go back to the login page.
 */
export async function handleLogin(request: Request, deps: LoginDeps): Promise<Response> {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal()
  const token = await tokenFromForm(request)
  if (token === undefined) return seeOther(loginPath('missing'))

  const gateway = createGatewayClient({
    baseUrl: deps.env.gatewayUrl,
    token,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  })
  const whoami = await gateway.whoami()
  if (!whoami.ok) {
    const kind = whoami.failure.kind
    if (kind === 'unauthorized') return seeOther(loginPath('invalid'))
    if (kind === 'unreachable') return seeOther(loginPath('unreachable'))
    return seeOther(loginPath('gateway'))
  }
  if (whoami.data.role !== 'admin') return seeOther(loginPath('not_admin'))

  const response = seeOther('/')
  response.cookies.set(SESSION_COOKIE, token, sessionCookieOptions(isHttps(request)))
  return response
}

/** `POST /api/session/logout` (the logout button) and `DELETE /api/session`. */
export function handleLogout(request: Request, answer: 'redirect' | 'no-content'): Response {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal()
  const response = answer === 'redirect' ? seeOther('/login') : new NextResponse(null, { status: 204 })
  response.cookies.set(SESSION_COOKIE, '', clearedSessionCookieOptions(isHttps(request)))
  return response
}

export function loginPath(error: LoginError): string {
  return `/login?error=${error}`
}

function isHttps(request: Request): boolean {
  return isHttpsRequest(new URL(request.url), request.headers)
}
