/**
 * Cross-site request check for the dashboard's state-changing routes (log in, log out). SameSite=Strict
 * already keeps the session cookie off cross-site requests; this also stops login CSRF (a page elsewhere
 * posting its own token to log the operator into the wrong gateway).
 *
 * Browsers send `Sec-Fetch-Site` and `Origin` on every POST; a request carrying neither is not from a
 * browser page (curl, a test client) and cannot be a cross-site forgery, so it is let through.
 */
export function isSameOriginRequest(headers: Headers): boolean {
  const site = headers.get('sec-fetch-site')
  if (site !== null && site !== 'same-origin' && site !== 'none') return false

  const origin = headers.get('origin')
  if (origin === null) return true
  if (origin === 'null') return false
  const host = (headers.get('x-forwarded-host') ?? headers.get('host'))?.split(',')[0]?.trim()
  if (host === undefined || host === '') return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}
