import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { GET as auditRoute } from '../app/api/gw/audit/route'
import { GET as channelsRoute } from '../app/api/gw/channels/route'
import { GET as connectionsRoute } from '../app/api/gw/connections/route'
import { GET as healthRoute } from '../app/api/gw/health/route'
import { sessionTokenOf } from './gateway-route'
import { SESSION_COOKIE } from './session-cookie'
import { handleLogin } from './session-handlers'

// A token an operator may well choose (`openssl rand -base64 24`): `+`, `/` and `=` are URL-encoded in a cookie.
const ADMIN_TOKEN = 'k3y+With/Slash=='

let gateway: Server
let gatewayUrl: string
const seen: { path: string; authorization: string | undefined }[] = []

// A real HTTP server standing in for the gateway: it knows one admin token.
beforeAll(async () => {
  gateway = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization })
    response.setHeader('content-type', 'application/json')
    const path = request.url ?? ''
    if (path === '/health') {
      response.end(
        JSON.stringify({
          status: 'ok',
          connections: 0,
          connected_agents: 0,
          uptime_s: 1,
          version: '0.1.0',
          timestamp: '2025-01-01T00:00:00.000Z',
        }),
      )
    } else if (request.headers.authorization !== `Bearer ${ADMIN_TOKEN}`) {
      response.statusCode = 401
      response.end(
        JSON.stringify({ error: { code: 'unauthorized', message: 'bad token', retryable: false } }),
      )
    } else if (path === '/api/admin/whoami') {
      response.end(JSON.stringify({ role: 'admin' }))
    } else if (path === '/api/admin/channels') {
      response.end(JSON.stringify({ channels: [] }))
    } else {
      response.statusCode = 404
      response.end('{}')
    }
  })
  gateway.listen(0, '127.0.0.1')
  await once(gateway, 'listening')
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
  vi.stubEnv('PARLEY_GATEWAY_URL', gatewayUrl)
})

afterAll(async () => {
  vi.unstubAllEnvs()
  gateway.closeAllConnections()
  await new Promise<void>((resolve) => gateway.close(() => resolve()))
})

afterEach(() => {
  seen.length = 0
})

/** The Cookie header a browser sends back after the login handler set the session cookie. */
async function loggedInCookie(): Promise<string> {
  const login = await handleLogin(
    new Request('http://127.0.0.1:3000/api/session', {
      method: 'POST',
      headers: {
        host: '127.0.0.1:3000',
        origin: 'http://127.0.0.1:3000',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    }),
    { env: { gatewayUrl } },
  )
  const setCookie = login.headers.get('set-cookie') ?? ''
  expect(setCookie).toContain(`${SESSION_COOKIE}=`)
  return setCookie.split(';')[0] as string
}

describe('/api/gw route handlers', () => {
  it('send the gateway the same token the operator logged in with, even one with + / =', async () => {
    const cookie = await loggedInCookie()
    expect(sessionTokenOf(new Request('http://x/', { headers: { cookie: `a=b; ${cookie}` } }))).toBe(
      ADMIN_TOKEN,
    )
    const response = await channelsRoute(
      new Request('http://127.0.0.1:3000/api/gw/channels', { headers: { cookie } }),
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, data: { channels: [] } })
    expect(seen.at(-1)).toEqual({ path: '/api/admin/channels', authorization: `Bearer ${ADMIN_TOKEN}` })
  })

  it('answer 401 without a session cookie and never call the gateway, not even /health', async () => {
    const routes = [
      () => healthRoute(new Request('http://127.0.0.1:3000/api/gw/health')),
      () => connectionsRoute(new Request('http://127.0.0.1:3000/api/gw/connections')),
      () => channelsRoute(new Request('http://127.0.0.1:3000/api/gw/channels')),
      () => auditRoute(new Request('http://127.0.0.1:3000/api/gw/audit?kind=publish')),
      () =>
        healthRoute(
          new Request('http://127.0.0.1:3000/api/gw/health', { headers: { cookie: `${SESSION_COOKIE}=` } }),
        ),
    ]
    for (const route of routes) {
      const response = await route()
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ ok: false, failure: { kind: 'unauthorized' } })
    }
    expect(seen).toEqual([])
  })

  it('treat a cookie value that cannot be a token as no session', () => {
    for (const value of ['%E0%A4%A', 'a%20b', '%3Bpath%3D%2F']) {
      const request = new Request('http://x/', { headers: { cookie: `${SESSION_COOKIE}=${value}` } })
      expect(sessionTokenOf(request), value).toBeUndefined()
    }
  })
})
