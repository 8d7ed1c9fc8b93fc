import { NextResponse } from 'next/server'
import type { DashboardEnv } from '@/env'
import { gatewayClientFor, sessionSecretOf } from './dashboard-gateway'
import { isSameOriginRequest } from './same-origin'
import {
  clearedSessionCookieOptions,
  isHttpsRequest,
  normaliseToken,
  SESSION_COOKIE,
  SESSION_MAX_AGE_S,
  sessionCookieOptions,
} from './session-cookie'

/** Why a login failed, carried to the login page as `?error=`. */
export type LoginError =
  | 'missing'
  | 'invalid'
  | 'not_admin'
  | 'unreachable'
  | 'gateway'
  | 'expired'
  | 'rate_limited'

export interface SessionDeps {
  env: DashboardEnv
  fetch?: typeof fetch
  now?: () => number
}

/** What the gateway keeps of the browser at login: bounded like the gateway's schema. */
const MAX_USER_AGENT_LENGTH = 512

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
 * `POST /api/session` (the login form): sends the token to the gateway once, to open a session
 * (`POST /api/admin/sessions`, on behalf of the browser's address), and keeps only the session's opaque
 * secret in the cookie. Failures go back to the login page; a locked-out browser is told for how long.
 */
export async function handleLogin(request: Request, deps: SessionDeps): Promise<Response> {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal()
  const token = await tokenFromForm(request)
  if (token === undefined) return seeOther(loginPath('missing'))

  const gateway = gatewayClientFor(deps.env, token, request.headers, deps.fetch)
  const userAgent = request.headers.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH)
  const opened = await gateway.openSession(userAgent === undefined ? {} : { userAgent })
  if (!opened.ok) {
    const failure = opened.failure
    if (failure.kind === 'unauthorized') return seeOther(loginPath('invalid'))
    if (failure.kind === 'unreachable') return seeOther(loginPath('unreachable'))
    if (failure.kind === 'http' && failure.status === 403) return seeOther(loginPath('not_admin'))
    if (failure.kind === 'http' && failure.code === 'rate_limited') {
      return seeOther(loginPath('rate_limited', failure.retryAfterMs))
    }
    return seeOther(loginPath('gateway'))
  }

  const now = deps.now ?? Date.now
  const lifetimeS = Math.floor((Date.parse(opened.data.info.expiresAt) - now()) / 1000)
  const response = seeOther('/')
  response.cookies.set(
    SESSION_COOKIE,
    opened.data.session,
    sessionCookieOptions(isHttps(request), Math.max(1, Math.min(SESSION_MAX_AGE_S, lifetimeS))),
  )
  return response
}

/**
 * `POST /api/session/logout` (the logout button) and `DELETE /api/session`: ends the session on the
 * gateway (so a copy of the cookie is worthless from now on), then clears the cookie. The cookie is
 * cleared even when the gateway cannot be reached; the session then ends at its expiry.
 */
export async function handleLogout(
  request: Request,
  answer: 'redirect' | 'no-content',
  deps: SessionDeps,
): Promise<Response> {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal()
  const session = sessionSecretOf(request.headers.get('cookie'))
  if (session !== undefined) {
    await gatewayClientFor(deps.env, session, request.headers, deps.fetch).endSession()
  }
  const response = answer === 'redirect' ? seeOther('/login') : new NextResponse(null, { status: 204 })
  response.cookies.set(SESSION_COOKIE, '', clearedSessionCookieOptions(isHttps(request)))
  return response
}

/** The login page with why the last attempt failed (and, when locked out, for how many seconds). */
export function loginPath(error: LoginError, retryAfterMs?: number): string {
  const retry = retryAfterMs === undefined ? '' : `&retry=${Math.max(1, Math.ceil(retryAfterMs / 1000))}`
  return `/login?error=${error}${retry}`
}

function isHttps(request: Request): boolean {
  return isHttpsRequest(new URL(request.url), request.headers)
}
