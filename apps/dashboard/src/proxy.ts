import { type NextRequest, NextResponse } from 'next/server'
import { failed } from './lib/gateway-result'
import { SESSION_COOKIE } from './lib/session-cookie'

/**
 * Every page and `/api/gw/*` route needs a session cookie. This only checks that one is present (the
 * gateway checks the token itself on each call, and a refused token sends the operator back here), so
 * the proxy never calls the gateway.
 */
export function proxy(request: NextRequest): NextResponse {
  if (request.cookies.get(SESSION_COOKIE)?.value) return NextResponse.next()
  if (request.nextUrl.pathname.startsWith('/api/')) {
    return NextResponse.json(failed({ kind: 'unauthorized', message: 'not logged in' }), { status: 401 })
  }
  const login = request.nextUrl.clone()
  login.pathname = '/login'
  login.search = ''
  return NextResponse.redirect(login)
}

export const config = {
  // Everything except the login page, the session routes and Next's static assets.
  matcher: ['/((?!login|api/session|_next/static|_next/image|favicon\\.ico|icon\\.svg).*)'],
}
