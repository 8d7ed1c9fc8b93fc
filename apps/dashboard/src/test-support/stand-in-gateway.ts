import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, vi } from 'vitest'
import { forwardToGateway } from '@/lib/gateway-proxy'
import { handleLogin } from '@/lib/session-handlers'

/** Where the route tests' requests come from: the dashboard's own origin. */
export const DASHBOARD = 'http://127.0.0.1:3000'

/**
 * Every `/api/gw/*` route is the one proxy, and the request's URL names the endpoint: the second argument (the
 * route's params, as Next passes them) is not needed.
 */
export function proxyRoute(request: Request, _context?: unknown): Promise<Response> {
  return forwardToGateway(request)
}

/** A call the stand-in gateway received. */
export interface SeenRequest {
  method: string
  path: string
  authorization: string | undefined
  body: unknown
}

/** The session secret the stand-in gateway issues for a login with `token` (deterministic, for assertions). */
export function sessionSecretFor(token: string): string {
  return `ps_${createHash('sha256').update(token).digest('base64url')}`
}

/**
 * A real HTTP server standing in for the gateway for a test file: `answer` gives [status, body] for each
 * call (body undefined: no content). It is `PARLEY_GATEWAY_URL` while the file runs; `seen` holds the calls
 * of the current test. Like the gateway, it opens a session (`POST /api/admin/sessions`) for a token whose
 * `whoami` answers role admin, and takes that session for the token on later calls (`answer` sees the
 * token; `seen` records the session the dashboard really sent).
 */
export function useStandInGateway(answer: (request: SeenRequest) => [number, unknown]) {
  let server: Server
  const sessions = new Map<string, string>()
  function openSession(request: SeenRequest, token: string | undefined): [number, unknown] {
    const [status, whoami] = answer({ ...request, method: 'GET', path: '/api/admin/whoami', body: undefined })
    if (status !== 200) return [status, whoami]
    if ((whoami as { role?: string }).role !== 'admin' || token === undefined) {
      return [403, { error: { code: 'forbidden', message: 'not admin', retryable: false } }]
    }
    const session = sessionSecretFor(token)
    sessions.set(session, token)
    const at = new Date().toISOString()
    const expires = new Date(Date.now() + 3_600_000).toISOString()
    const info = { id: 'ses_test', principal: 'admin', createdAt: at, lastSeenAt: at, expiresAt: expires }
    return [201, { session, info: { ...info, userAgent: null, address: null, current: true } }]
  }
  const stand = {
    url: '',
    seen: [] as SeenRequest[],
    /** Logs in with `token`; resolves with the session's Cookie header, the login's calls forgotten. */
    async login(token: string): Promise<string> {
      const cookie = await loggedInCookie(stand.url, token)
      stand.seen.length = 0
      return cookie
    },
  }
  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = ''
      request.on('data', (chunk) => {
        text += String(chunk)
      })
      request.on('end', () => {
        const seen: SeenRequest = {
          method: request.method ?? 'GET',
          path: request.url ?? '',
          authorization: request.headers.authorization,
          body: text === '' ? undefined : JSON.parse(text),
        }
        stand.seen.push(seen)
        const presented = seen.authorization?.slice('Bearer '.length)
        const token = presented === undefined ? undefined : (sessions.get(presented) ?? presented)
        const asToken = { ...seen, authorization: token === undefined ? undefined : `Bearer ${token}` }
        const [status, body] =
          seen.method === 'POST' && seen.path === '/api/admin/sessions'
            ? openSession(asToken, token)
            : answer(asToken)
        response.statusCode = status
        if (body === undefined) {
          response.end()
          return
        }
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify(body))
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    stand.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    vi.stubEnv('PARLEY_GATEWAY_URL', stand.url)
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  afterEach(() => {
    stand.seen.length = 0
  })
  return stand
}

/** Logs in with `token` against `gatewayUrl`; resolves with the Cookie header a browser sends back. */
export async function loggedInCookie(gatewayUrl: string, token: string): Promise<string> {
  const login = await handleLogin(
    new Request(`${DASHBOARD}/api/session`, {
      method: 'POST',
      headers: {
        host: '127.0.0.1:3000',
        origin: DASHBOARD,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }).toString(),
    }),
    { env: { gatewayUrl } },
  )
  return (login.headers.get('set-cookie') ?? '').split(';')[0] as string
}

/** A dynamic route's second argument. */
export function routeParams<T extends Record<string, string>>(values: T): { params: Promise<T> } {
  return { params: Promise.resolve(values) }
}

/** A request as Chromium sends it from the dashboard's own pages (or, with `site`, from elsewhere). */
export function dashboardAction(
  path: string,
  method: string,
  cookie: string,
  body?: unknown,
  site: 'same-origin' | 'cross-site' = 'same-origin',
): Request {
  return new Request(`${DASHBOARD}${path}`, {
    method,
    headers: {
      cookie,
      host: '127.0.0.1:3000',
      origin: site === 'same-origin' ? DASHBOARD : 'https://evil.example',
      'sec-fetch-site': site,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
}
