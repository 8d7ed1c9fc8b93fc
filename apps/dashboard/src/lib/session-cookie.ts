/**
 * The admin session: an opaque session secret the gateway issued at login (`ps_…`, stored there only as a
 * hash, with an expiry, revoked on logout), kept in an httpOnly cookie so page scripts never read it. The
 * admin token itself is never stored: it is sent to the gateway once, at login.
 */
export const SESSION_COOKIE = 'parley_admin_session'

/** Long enough for a working day; the gateway ends the session at its own expiry (`dashboardSessionTtl`). */
export const SESSION_MAX_AGE_S = 12 * 60 * 60

/** Tokens are opaque strings; this bounds what we are willing to send on. */
export const MAX_TOKEN_LENGTH = 1024

const SESSION_SECRET_PATTERN = /^ps_[A-Za-z0-9_-]{43}$/

export interface SessionCookieOptions {
  httpOnly: true
  sameSite: 'strict'
  secure: boolean
  path: '/'
  maxAge: number
}

/** `secure` only when the browser reached us over https (a Secure cookie is dropped on plain http). */
export function sessionCookieOptions(secure: boolean, maxAgeS = SESSION_MAX_AGE_S): SessionCookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: maxAgeS }
}

/** Options that overwrite the cookie with an already expired one. */
export function clearedSessionCookieOptions(secure: boolean): SessionCookieOptions {
  return sessionCookieOptions(secure, 0)
}

/**
 * Whether the browser's request came over https. Behind a TLS-terminating proxy the scheme is in
 * `X-Forwarded-Proto` (first hop wins when there are several).
 */
export function isHttpsRequest(url: URL, headers: Headers): boolean {
  const forwarded = headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  if (forwarded !== undefined && forwarded !== '') return forwarded === 'https'
  return url.protocol === 'https:'
}

/** Accepts a token typed or pasted by the operator; undefined when there is nothing usable. */
export function normaliseToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const token = value.trim()
  if (token === '' || token.length > MAX_TOKEN_LENGTH) return undefined
  // It travels in an Authorization header: no control characters, spaces, quotes or backslashes.
  if (!/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(token)) return undefined
  return token
}

/** The session secret of a cookie value; anything else (an old cookie holding a token) is no session. */
export function normaliseSessionSecret(value: unknown): string | undefined {
  return typeof value === 'string' && SESSION_SECRET_PATTERN.test(value) ? value : undefined
}
