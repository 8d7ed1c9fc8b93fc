import { readEnv } from '@/env'
import { handleLogout } from '@/lib/session-handlers'

/** Log out from the header's button (a plain form post, so it works before hydration too). */
export function POST(request: Request): Promise<Response> {
  return handleLogout(request, 'redirect', { env: readEnv() })
}
