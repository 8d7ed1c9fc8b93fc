import { describe, expect, it } from 'vitest'
import {
  dashboardAction as action,
  DASHBOARD,
  routeParams as params,
  proxyRoute,
  sessionSecretFor,
  useStandInGateway,
} from '@/test-support/stand-in-gateway'

const ADMIN_TOKEN = 'access-admin-token'
/** The session the stand-in gateway opened at login: what the dashboard sends from then on. */
const SESSION = sessionSecretFor(ADMIN_TOKEN)

const tokenInfo = {
  id: 'tok_1',
  name: 'ops',
  role: 'client',
  scopes: ['subscribe:*'],
  subject: null,
  createdAt: '2024-05-01T10:30:00.000Z',
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
}
const device = {
  id: 'dev_1',
  deviceName: 'kitchen tablet',
  platform: null,
  remoteAddress: null,
  createdAt: '2024-05-01T10:30:00.000Z',
  expiresAt: '2024-05-01T10:35:00.000Z',
  status: 'pending',
  tokenId: null,
  identity: null,
}
const agentKey = {
  id: 'did:key:z6MkTest',
  publicKey: 'AbC',
  name: 'planner',
  role: 'agent',
  scopes: ['*:*'],
  createdAt: '2024-05-01T10:30:00.000Z',
  revokedAt: null,
}
const decision = { requestId: 'pair_1', channelType: 'telegram', senderId: '42', status: 'approved' }

/** The answer of the stand-in gateway to an admin call. */
function answerFor(method: string, path: string): unknown {
  if (path === '/api/admin/whoami') return { role: 'admin' }
  if (path === '/api/admin/pairing') return { pending: [], paired: [] }
  if (path.startsWith('/api/admin/pairing/')) return decision
  if (path === '/api/admin/devices') return { devices: [device] }
  if (path.startsWith('/api/admin/devices/')) return device
  if (path === '/api/admin/tokens' && method === 'POST') return { token: 'pk_secret', info: tokenInfo }
  if (path === '/api/admin/tokens') return { tokens: [tokenInfo] }
  if (path.startsWith('/api/admin/tokens/')) return tokenInfo
  if (path === '/api/admin/agent-keys' && method === 'GET') return { agentKeys: [agentKey] }
  return agentKey
}

const gateway = useStandInGateway(({ method, path, authorization }) =>
  authorization === `Bearer ${ADMIN_TOKEN}`
    ? [200, answerFor(method, path)]
    : [401, { error: { code: 'unauthorized', message: 'bad token', retryable: false } }],
)
const { seen } = gateway
const loggedInCookie = () => gateway.login(ADMIN_TOKEN)

/** Every state-changing access route, called with `cookie`, `site` and a valid body. */
function everyAction(cookie: string, site: 'same-origin' | 'cross-site') {
  return [
    () =>
      proxyRoute(
        action('/api/gw/pairing/requests/pair_1/approve', 'POST', cookie, undefined, site),
        params({ id: 'pair_1' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/pairing/requests/pair_1/deny', 'POST', cookie, undefined, site),
        params({ id: 'pair_1' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/pairing/paired/telegram/42', 'DELETE', cookie, undefined, site),
        params({ channelType: 'telegram', senderId: '42' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/devices/dev_1/approve', 'POST', cookie, { role: 'client', scopes: ['*:*'] }, site),
        params({ id: 'dev_1' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/devices/dev_1/deny', 'POST', cookie, undefined, site),
        params({ id: 'dev_1' }),
      ),
    () => proxyRoute(action('/api/gw/tokens', 'POST', cookie, { name: 'ops', role: 'client' }, site)),
    () =>
      proxyRoute(action('/api/gw/tokens/tok_1', 'DELETE', cookie, undefined, site), params({ id: 'tok_1' })),
    () =>
      proxyRoute(
        action(
          '/api/gw/agent-keys',
          'POST',
          cookie,
          { id: agentKey.id, publicKey: 'AbC', name: 'planner' },
          site,
        ),
      ),
    () =>
      proxyRoute(
        action('/api/gw/agent-keys/did:key:z6MkTest', 'DELETE', cookie, undefined, site),
        params({ id: agentKey.id }),
      ),
  ]
}

describe('/api/gw access routes', () => {
  it('read pairing, devices, tokens and agent keys from the gateway with the session token', async () => {
    const cookie = await loggedInCookie()
    const get = (path: string) => new Request(`${DASHBOARD}${path}`, { headers: { cookie } })
    expect(await (await proxyRoute(get('/api/gw/pairing'))).json()).toEqual({
      ok: true,
      data: { pending: [], paired: [] },
    })
    expect(await (await proxyRoute(get('/api/gw/devices'))).json()).toEqual({
      ok: true,
      data: { devices: [device] },
    })
    expect(await (await proxyRoute(get('/api/gw/tokens'))).json()).toEqual({
      ok: true,
      data: { tokens: [tokenInfo] },
    })
    expect(await (await proxyRoute(get('/api/gw/agent-keys'))).json()).toEqual({
      ok: true,
      data: { agentKeys: [agentKey] },
    })
    expect(seen.map((request) => `${request.method} ${request.path} ${request.authorization}`)).toEqual([
      `GET /api/admin/pairing Bearer ${SESSION}`,
      `GET /api/admin/devices Bearer ${SESSION}`,
      `GET /api/admin/tokens Bearer ${SESSION}`,
      `GET /api/admin/agent-keys Bearer ${SESSION}`,
    ])
  })

  it('forward every action with its method, path and parsed body (protocol defaults applied)', async () => {
    const cookie = await loggedInCookie()
    for (const call of everyAction(cookie, 'same-origin')) {
      const response = await call()
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ ok: true })
    }
    expect(seen.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/api/admin/pairing/requests/pair_1/approve', body: undefined },
      { method: 'POST', path: '/api/admin/pairing/requests/pair_1/deny', body: undefined },
      { method: 'DELETE', path: '/api/admin/pairing/paired/telegram/42', body: undefined },
      { method: 'POST', path: '/api/admin/devices/dev_1/approve', body: { role: 'client', scopes: ['*:*'] } },
      { method: 'POST', path: '/api/admin/devices/dev_1/deny', body: undefined },
      { method: 'POST', path: '/api/admin/tokens', body: { name: 'ops', role: 'client', scopes: [] } },
      { method: 'DELETE', path: '/api/admin/tokens/tok_1', body: undefined },
      {
        method: 'POST',
        path: '/api/admin/agent-keys',
        body: { id: agentKey.id, publicKey: 'AbC', name: 'planner', role: 'agent', scopes: ['*:*'] },
      },
      { method: 'DELETE', path: '/api/admin/agent-keys/did%3Akey%3Az6MkTest', body: undefined },
    ])
    expect(seen.every((request) => request.authorization === `Bearer ${SESSION}`)).toBe(true)
  })

  it('refuse every cross-site action with 403 and never call the gateway', async () => {
    const cookie = await loggedInCookie()
    for (const call of everyAction(cookie, 'cross-site')) {
      const response = await call()
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({ ok: false, failure: { code: 'cross_site_request' } })
    }
    expect(seen).toEqual([])
  })

  it('answer 401 without a session and never call the gateway', async () => {
    for (const call of everyAction('', 'same-origin')) {
      const response = await call()
      expect(response.status).toBe(401)
    }
    for (const path of ['pairing', 'devices', 'tokens', 'agent-keys']) {
      expect((await proxyRoute(new Request(`${DASHBOARD}/api/gw/${path}`))).status).toBe(401)
    }
    expect(seen).toEqual([])
  })

  it('refuse a body that is not JSON or does not match the protocol, and an id out of bounds, with 400', async () => {
    const cookie = await loggedInCookie()
    const notJson = await proxyRoute(action('/api/gw/tokens', 'POST', cookie, '{name'))
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toMatchObject({
      failure: { code: 'invalid_body', message: 'the body must be JSON' },
    })
    const badRole = await proxyRoute(
      action('/api/gw/devices/dev_1/approve', 'POST', cookie, { role: 'root' }),
      params({ id: 'dev_1' }),
    )
    expect(badRole.status).toBe(400)
    expect(await badRole.json()).toMatchObject({
      failure: { code: 'invalid_body', message: expect.stringMatching(/^role: /) },
    })
    const noName = await proxyRoute(action('/api/gw/agent-keys', 'POST', cookie, { id: 'x', publicKey: 'y' }))
    expect(noName.status).toBe(400)
    const longId = 'x'.repeat(129)
    const badId = await proxyRoute(
      action(`/api/gw/tokens/${longId}`, 'DELETE', cookie),
      params({ id: longId }),
    )
    expect(badId.status).toBe(400)
    expect(await badId.json()).toMatchObject({
      failure: { code: 'invalid_id', message: 'id must be 1 to 128 characters' },
    })
    const longSender = 'y'.repeat(257)
    const badSender = await proxyRoute(
      action(`/api/gw/pairing/paired/telegram/${longSender}`, 'DELETE', cookie),
      params({ channelType: 'telegram', senderId: longSender }),
    )
    expect(badSender.status).toBe(400)
    expect(seen).toEqual([])
  })

  it('drop the session cookie when the gateway refuses the token on an action', async () => {
    const cookie = await loggedInCookie()
    const response = await proxyRoute(
      action('/api/gw/pairing/requests/pair_1/approve', 'POST', cookie.replace(/=.*/, '=wrong-token')),
      params({ id: 'pair_1' }),
    )
    // The stand-in gateway refuses the wrong token: the session is dropped and the page goes to /login.
    expect(response.status).toBe(401)
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0|Expires=/i)
  })
})
