import { describe, expect, it } from 'vitest'
import { proxyRoute, sessionSecretFor, useStandInGateway } from '@/test-support/stand-in-gateway'
import { sessionTokenOf } from './gateway-route'
import { SESSION_COOKIE } from './session-cookie'

// A token an operator may well choose (`openssl rand -base64 24`): `+`, `/` and `=` are URL-encoded in a cookie.
const ADMIN_TOKEN = 'k3y+With/Slash=='
/** The session the stand-in gateway opened at login: what the dashboard sends from then on. */
const SESSION = sessionSecretFor(ADMIN_TOKEN)

const HEALTH = {
  status: 'ok',
  connections: 0,
  connected_agents: 0,
  uptime_s: 1,
  version: '0.1.0',
  timestamp: '2025-01-01T00:00:00.000Z',
}

// The stand-in gateway knows one admin token.
const gateway = useStandInGateway(({ method, path, authorization }): [number, unknown] => {
  if (path === '/health') return [200, HEALTH]
  if (authorization !== `Bearer ${ADMIN_TOKEN}`) {
    return [401, { error: { code: 'unauthorized', message: 'bad token', retryable: false } }]
  }
  if (path === '/api/admin/whoami') return [200, { role: 'admin' }]
  if (path === '/api/admin/channels') return [200, { channels: [] }]
  if (path === '/api/admin/presence') return [200, { clients: [], principals: [] }]
  if (path === '/api/admin/nodes') {
    return [503, { error: { code: 'unavailable', message: 'bus down', retryable: true } }]
  }
  if (method === 'POST' && path === '/api/admin/dlq/dlv_1/requeue')
    return [200, { id: 'dlv_1', requeued: true }]
  if (method === 'DELETE' && path.startsWith('/api/admin/dlq')) return [200, { purged: 2 }]
  return [404, {}]
})
const { seen } = gateway

/** The Cookie header a browser sends back after the login handler set the session cookie. */
async function loggedInCookie(): Promise<string> {
  const cookie = await gateway.login(ADMIN_TOKEN)
  expect(cookie).toContain(`${SESSION_COOKIE}=`)
  return cookie
}

function idParam(id: string): { params: Promise<{ id: string }> } {
  return { params: Promise.resolve({ id }) }
}

/** Headers Chromium sends on a `fetch` from the dashboard's own pages. */
function sameOriginHeaders(cookie: string): Record<string, string> {
  return { cookie, host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }
}

describe('/api/gw/dlq action routes', () => {
  it('requeue and purge reach the gateway with their method and the session token', async () => {
    const cookie = await loggedInCookie()
    seen.length = 0
    const requeued = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1/requeue', {
        method: 'POST',
        headers: sameOriginHeaders(cookie),
      }),
      idParam('dlv_1'),
    )
    expect(await requeued.json()).toEqual({ ok: true, data: { id: 'dlv_1', requeued: true } })
    const purgedOne = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1', {
        method: 'DELETE',
        headers: sameOriginHeaders(cookie),
      }),
      idParam('dlv_1'),
    )
    expect(await purgedOne.json()).toEqual({ ok: true, data: { purged: 2 } })
    const purgedAll = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/dlq?recipient=billing&cursor=c1&limit=5', {
        method: 'DELETE',
        headers: sameOriginHeaders(cookie),
      }),
    )
    expect(purgedAll.status).toBe(200)
    const bearer = `Bearer ${SESSION}`
    expect(seen).toEqual([
      { method: 'POST', path: '/api/admin/dlq/dlv_1/requeue', authorization: bearer },
      { method: 'DELETE', path: '/api/admin/dlq/dlv_1', authorization: bearer },
      // A purge of "all matching" sends the filters only: a cursor would not narrow it.
      { method: 'DELETE', path: '/api/admin/dlq?recipient=billing', authorization: bearer },
    ])
  })

  it('refuse cross-site requeue and purge with 403 and never call the gateway', async () => {
    const cookie = await loggedInCookie()
    seen.length = 0
    const crossSite = {
      cookie,
      host: '127.0.0.1:3000',
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    }
    const responses = [
      await proxyRoute(
        new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1/requeue', { method: 'POST', headers: crossSite }),
        idParam('dlv_1'),
      ),
      await proxyRoute(
        new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1', { method: 'DELETE', headers: crossSite }),
        idParam('dlv_1'),
      ),
      await proxyRoute(
        new Request('http://127.0.0.1:3000/api/gw/dlq', { method: 'DELETE', headers: crossSite }),
      ),
    ]
    for (const response of responses) {
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({ ok: false, failure: { code: 'cross_site_request' } })
    }
    expect(seen).toEqual([])
  })

  it('refuse a bad filter or id with 400 naming the problem, without calling the gateway', async () => {
    const cookie = await loggedInCookie()
    seen.length = 0
    const badKind = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/dlq?kind=teleport', { headers: { cookie } }),
    )
    expect(badKind.status).toBe(400)
    expect(await badKind.json()).toMatchObject({
      ok: false,
      failure: { code: 'invalid_filter', message: 'kind must be one of direct, channel, webhook' },
    })
    const purgeBadKind = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/dlq?kind=teleport', {
        method: 'DELETE',
        headers: sameOriginHeaders(cookie),
      }),
    )
    expect(purgeBadKind.status).toBe(400)
    const longId = 'x'.repeat(65)
    const badId = await proxyRoute(
      new Request(`http://127.0.0.1:3000/api/gw/dlq/${longId}/requeue`, {
        method: 'POST',
        headers: sameOriginHeaders(cookie),
      }),
      idParam(longId),
    )
    expect(badId.status).toBe(400)
    expect(seen).toEqual([])
  })
})

describe('/api/gw route handlers', () => {
  it('keep only the gateway session in the cookie, never the admin token (even one with + / =), and send the session', async () => {
    const cookie = await loggedInCookie()
    expect(cookie).toBe(`${SESSION_COOKIE}=${SESSION}`)
    expect(decodeURIComponent(cookie)).not.toContain(ADMIN_TOKEN)
    expect(sessionTokenOf(new Request('http://x/', { headers: { cookie: `a=b; ${cookie}` } }))).toBe(SESSION)
    const response = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/channels', { headers: { cookie } }),
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, data: { channels: [] } })
    expect(seen.at(-1)).toEqual({
      method: 'GET',
      path: '/api/admin/channels',
      authorization: `Bearer ${SESSION}`,
    })
  })

  it('read presence and nodes from the gateway with the session token; a gateway error is a 502 result', async () => {
    const cookie = await loggedInCookie()
    seen.length = 0
    const presence = await proxyRoute(
      new Request('http://127.0.0.1:3000/api/gw/presence', { headers: { cookie } }),
    )
    expect(presence.status).toBe(200)
    expect(await presence.json()).toEqual({ ok: true, data: { clients: [], principals: [] } })
    const nodes = await proxyRoute(new Request('http://127.0.0.1:3000/api/gw/nodes', { headers: { cookie } }))
    expect(nodes.status).toBe(502)
    expect(await nodes.json()).toEqual({
      ok: false,
      failure: { kind: 'http', status: 503, code: 'unavailable', message: 'bus down' },
    })
    const bearer = `Bearer ${SESSION}`
    expect(seen).toEqual([
      { method: 'GET', path: '/api/admin/presence', authorization: bearer },
      { method: 'GET', path: '/api/admin/nodes', authorization: bearer },
    ])
  })

  it('answer 401 without a session cookie and never call the gateway, not even /health', async () => {
    const routes = [
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/health')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/connections')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/channels')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/presence')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/nodes')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/audit?kind=publish')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/deliveries')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/dlq')),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1'), idParam('dlv_1')),
      () =>
        proxyRoute(
          new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1/requeue', { method: 'POST' }),
          idParam('dlv_1'),
        ),
      () =>
        proxyRoute(
          new Request('http://127.0.0.1:3000/api/gw/dlq/dlv_1', { method: 'DELETE' }),
          idParam('dlv_1'),
        ),
      () => proxyRoute(new Request('http://127.0.0.1:3000/api/gw/dlq', { method: 'DELETE' })),
      () =>
        proxyRoute(
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

  it('treat a cookie value that cannot be a session as no session, a raw token included', () => {
    for (const value of ['%E0%A4%A', 'a%20b', '%3Bpath%3D%2F', encodeURIComponent(ADMIN_TOKEN)]) {
      const request = new Request('http://x/', { headers: { cookie: `${SESSION_COOKIE}=${value}` } })
      expect(sessionTokenOf(request), value).toBeUndefined()
    }
  })
})
