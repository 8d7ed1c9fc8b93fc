import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CLIENT_ADDRESS_HEADER, DASHBOARD_SECRET_HEADER } from '@parley/protocol/admin'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from './session-cookie'
import { handleLogin, handleLogout } from './session-handlers'

const ADMIN_TOKEN = 'admin-token-123'
const AGENT_TOKEN = 'agent-token-456'
const LOCKED_TOKEN = 'locked-out-token'
const SESSION = `ps_${'s'.repeat(43)}`
const DASHBOARD_SECRET = 'dashboard-secret-0123456789abcdef0123'
let gateway: Server
let gatewayUrl: string
const seen: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: string }> = []

function reply(response: import('node:http').ServerResponse, status: number, body: unknown): void {
  response.statusCode = status
  response.setHeader('content-type', 'application/json')
  response.end(JSON.stringify(body))
}

const refusal = (code: string, message: string, retryAfterMs?: number) => ({
  error: {
    code,
    message,
    retryable: code === 'rate_limited',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  },
})

// A real HTTP server standing in for the gateway's session endpoints.
beforeAll(async () => {
  gateway = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += String(chunk)
    })
    request.on('end', () => {
      const method = request.method ?? 'GET'
      const path = request.url ?? ''
      seen.push({ method, path, headers: request.headers, body })
      const authorization = request.headers.authorization
      if (method === 'POST' && path === '/api/admin/sessions') {
        if (authorization === `Bearer ${ADMIN_TOKEN}`) {
          const at = new Date().toISOString()
          const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
          const info = { id: 'ses_1', principal: 'admin', createdAt: at, lastSeenAt: at, expiresAt }
          return reply(response, 201, {
            session: SESSION,
            info: { ...info, userAgent: null, address: null, current: true },
          })
        }
        if (authorization === `Bearer ${AGENT_TOKEN}`)
          return reply(response, 403, refusal('forbidden', 'not admin'))
        if (authorization === `Bearer ${LOCKED_TOKEN}`) {
          return reply(response, 429, refusal('rate_limited', 'too many', 41_200))
        }
        return reply(response, 401, refusal('unauthorized', 'bad token'))
      }
      if (method === 'DELETE' && path === '/api/admin/sessions/current') {
        return reply(response, 200, { revoked: authorization === `Bearer ${SESSION}` ? 1 : 0 })
      }
      reply(response, 404, refusal('not_found', path))
    })
  })
  gateway.listen(0, '127.0.0.1')
  await once(gateway, 'listening')
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
})

beforeEach(() => {
  seen.length = 0
})

afterAll(async () => {
  gateway.closeAllConnections()
  await new Promise<void>((resolve) => gateway.close(() => resolve()))
})

function loginRequest(token: string, headers: Record<string, string> = {}, base = 'http://127.0.0.1:3000') {
  return new Request(`${base}/api/session`, {
    method: 'POST',
    headers: {
      host: new URL(base).host,
      origin: base,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: new URLSearchParams({ token }).toString(),
  })
}

function logoutRequest(method: 'POST' | 'DELETE', headers: Record<string, string> = {}) {
  return new Request('http://127.0.0.1:3000/api/session/logout', {
    method,
    headers: { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', ...headers },
  })
}

describe('login (POST /api/session)', () => {
  it('keeps only the gateway session in an httpOnly SameSite=Strict cookie, never the admin token, and redirects to /', async () => {
    const response = await handleLogin(loginRequest(` ${ADMIN_TOKEN} `), { env: { gatewayUrl } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toContain(`${SESSION_COOKIE}=${SESSION}`)
    expect(cookie).not.toContain(ADMIN_TOKEN)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\//)
    expect(cookie).not.toMatch(/Secure/i)
    // The cookie lasts no longer than the session (one hour here).
    expect(Number(/Max-Age=(\d+)/i.exec(cookie)?.[1])).toBeLessThanOrEqual(3600)
    expect(seen.map((call) => `${call.method} ${call.path} ${call.headers.authorization}`)).toEqual([
      `POST /api/admin/sessions Bearer ${ADMIN_TOKEN}`,
    ])
  })

  it('marks the cookie Secure when served over https behind a proxy', async () => {
    const request = loginRequest(ADMIN_TOKEN, { 'x-forwarded-proto': 'https' })
    const response = await handleLogin(request, { env: { gatewayUrl } })
    expect(response.headers.get('set-cookie')).toMatch(/Secure/i)
  })

  it("names the browser's address to the gateway, with the dashboard secret, when one is configured", async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7', 'user-agent': 'Chromium test' }
    await handleLogin(loginRequest(ADMIN_TOKEN, headers), {
      env: { gatewayUrl, dashboardSecret: DASHBOARD_SECRET },
    })
    expect(seen[0]?.headers[DASHBOARD_SECRET_HEADER]).toBe(DASHBOARD_SECRET)
    expect(seen[0]?.headers[CLIENT_ADDRESS_HEADER]).toBe('198.51.100.7')
    expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({ userAgent: 'Chromium test' })
    seen.length = 0
    await handleLogin(loginRequest(ADMIN_TOKEN, headers), { env: { gatewayUrl } })
    expect(seen[0]?.headers[CLIENT_ADDRESS_HEADER]).toBeUndefined()
    expect(seen[0]?.headers[DASHBOARD_SECRET_HEADER]).toBeUndefined()
  })

  it('sends a refused token back to the login page without a cookie', async () => {
    const response = await handleLogin(loginRequest('wrong'), { env: { gatewayUrl } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/login?error=invalid')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('tells a locked-out browser for how long, in seconds', async () => {
    const response = await handleLogin(loginRequest(LOCKED_TOKEN), { env: { gatewayUrl } })
    expect(response.headers.get('location')).toBe('/login?error=rate_limited&retry=42')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('refuses a token that is valid but not an admin token', async () => {
    const response = await handleLogin(loginRequest(AGENT_TOKEN), { env: { gatewayUrl } })
    expect(response.headers.get('location')).toBe('/login?error=not_admin')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('asks for a token when the form is empty', async () => {
    const response = await handleLogin(loginRequest('   '), { env: { gatewayUrl } })
    expect(response.headers.get('location')).toBe('/login?error=missing')
  })

  it('says the gateway is unreachable when it is', async () => {
    const response = await handleLogin(loginRequest(ADMIN_TOKEN), {
      env: { gatewayUrl: 'http://127.0.0.1:1' },
    })
    expect(response.headers.get('location')).toBe('/login?error=unreachable')
  })

  it('refuses a cross-site form post before calling the gateway', async () => {
    const forged = loginRequest(ADMIN_TOKEN, {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    })
    const response = await handleLogin(forged, { env: { gatewayUrl: 'http://127.0.0.1:1' } })
    expect(response.status).toBe(403)
    expect(response.headers.get('set-cookie')).toBeNull()
  })
})

describe('logout', () => {
  it('ends the session on the gateway, clears the cookie and redirects to the login page', async () => {
    const request = logoutRequest('POST', { cookie: `${SESSION_COOKIE}=${SESSION}` })
    const response = await handleLogout(request, 'redirect', { env: { gatewayUrl } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/login')
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`, 'i'))
    expect(seen.map((call) => `${call.method} ${call.path} ${call.headers.authorization}`)).toEqual([
      `DELETE /api/admin/sessions/current Bearer ${SESSION}`,
    ])
  })

  it('clears the cookie even when the gateway cannot be reached', async () => {
    const request = logoutRequest('POST', { cookie: `${SESSION_COOKIE}=${SESSION}` })
    const response = await handleLogout(request, 'redirect', { env: { gatewayUrl: 'http://127.0.0.1:1' } })
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/i)
  })

  it('answers 204 to DELETE and refuses a cross-site logout without calling the gateway', async () => {
    expect((await handleLogout(logoutRequest('DELETE'), 'no-content', { env: { gatewayUrl } })).status).toBe(
      204,
    )
    const forged = logoutRequest('DELETE', {
      'sec-fetch-site': 'cross-site',
      cookie: `${SESSION_COOKIE}=${SESSION}`,
    })
    expect((await handleLogout(forged, 'no-content', { env: { gatewayUrl } })).status).toBe(403)
    expect(seen).toEqual([])
  })
})
