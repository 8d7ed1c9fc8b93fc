/**
 * The gateway prints `…/login#token=<admin token>` at first start. A fragment never reaches a server (nor
 * a Referer), which is why the token travels there; the login page reads it and removes it at once.
 */
export function tokenFromFragment(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token')?.trim()
  return token === undefined || token === '' ? undefined : token
}
