import { readEnv } from '@/env'
import { handleLogin, handleLogout } from '@/lib/session-handlers'

/** Log in: the login form posts the admin token here; the cookie gets a gateway session, not the token. */
export function POST(request: Request): Promise<Response> {
  return handleLogin(request, { env: readEnv() })
}

/** Log out, for scripts: ends the session on the gateway and clears the cookie. */
export function DELETE(request: Request): Promise<Response> {
  return handleLogout(request, 'no-content', { env: readEnv() })
}
