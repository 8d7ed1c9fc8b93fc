import { readEnv } from '../../../env'
import { handleLogin, handleLogout } from '../../../lib/session-handlers'

/** Log in: the login form posts the admin token here. */
export function POST(request: Request): Promise<Response> {
  return handleLogin(request, { env: readEnv() })
}

/** Log out, for scripts: clears the session cookie. */
export function DELETE(request: Request): Response {
  return handleLogout(request, 'no-content')
}
