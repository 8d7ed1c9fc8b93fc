/**
 * The admin session: the admin token itself, kept in an httpOnly cookie so page scripts never read it.
 * Only the dashboard's server uses it, as the Bearer token of its calls to the gateway.
 */
export const SESSION_COOKIE = 'parley_admin_session'

/** Long enough for a working day; a stolen browser profile stops working by the next one. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60

/** Tokens are opaque strings; this bounds what we are willing to put in a cookie. */
export const MAX_TOKEN_LENGTH = 1024

export interface SessionCookieOptions {
  httpOnly: true
  sameSite: 'strict'
  secure: boolean
  path: '/'
  maxAge: number
}

/** `secure` only when the browser reached us over https (a Secure cookie is dropped on plain http). */
export function sessionCookieOptions(secure: boolean): SessionCookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: SESSION_MAX_AGE_S }
}

/** Options that overwrite the cookie with an already expired one. */
export function clearedSessionCookieOptions(secure: boolean): SessionCookieOptions {
  return { ...sessionCookieOptions(secure), maxAge: 0 }
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
  // Cookie values cannot hold control characters, spaces, quotes, commas, semicolons or backslashes.
  if (!/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(token)) return undefined
  return token
}
