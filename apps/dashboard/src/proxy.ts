import { type NextRequest, NextResponse } from 'next/server'
import { readEnv } from './env'
import { contentSecurityPolicy, newNonce } from './lib/content-security-policy'
import { failed } from './lib/gateway-result'
import { SESSION_COOKIE } from './lib/session-cookie'

/**
 * Pages and routes that work without a session: the login page, the session routes themselves and the health
 * check (container health checks and load balancers carry no cookie).
 */
function isPublic(pathname: string): boolean {
  return (
    pathname === '/login' ||
    pathname.startsWith('/login/') ||
    pathname.startsWith('/api/session') ||
    pathname === '/api/health'
  )
}

/**
 * Runs before every page and route (not static assets). Pages get a Content-Security-Policy with a fresh
 * script nonce: it goes on the request too, where Next.js finds it and puts it on the scripts it renders
 * (every page is rendered per request, see the root layout). Pages and `/api/gw/*` need a session cookie;
 * this only checks that one is present (the gateway checks the session on each call, and a refused one
 * sends the operator back here), so the proxy never calls the gateway.
 */
export function proxy(request: NextRequest): NextResponse {
  const { pathname } = request.nextUrl
  const isApi = pathname.startsWith('/api/')
  if (!isPublic(pathname) && !request.cookies.get(SESSION_COOKIE)?.value) {
    if (isApi) {
      return NextResponse.json(failed({ kind: 'unauthorized', message: 'not logged in' }), { status: 401 })
    }
    const login = request.nextUrl.clone()
    login.pathname = '/login'
    login.search = ''
    return NextResponse.redirect(login)
  }
  if (isApi) return NextResponse.next()

  const policy = contentSecurityPolicy(newNonce(), readEnv().development)
  const requestHeaders = new Headers(request.headers)
  requestHeaders.set('content-security-policy', policy)
  const response = NextResponse.next({ request: { headers: requestHeaders } })
  response.headers.set('content-security-policy', policy)
  return response
}

export const config = {
  // Everything except Next's static assets and the icons.
  matcher: ['/((?!_next/static|_next/image|favicon\\.ico|icon\\.svg).*)'],
}
