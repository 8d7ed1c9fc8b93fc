import { describe, expect, it } from 'vitest'
import { agentList, conversationRows, liveGrant, liveGrants, policyList } from '@/test-support/agent-fixtures'
import {
  dashboardAction as action,
  DASHBOARD,
  routeParams as params,
  proxyRoute,
  sessionSecretFor,
  useStandInGateway,
} from '@/test-support/stand-in-gateway'

const ADMIN_TOKEN = 'agents-admin-token'
/** The session the stand-in gateway opened at login: what the dashboard sends from then on. */
const SESSION = sessionSecretFor(ADMIN_TOKEN)
const rule = policyList.rules[0]

/** The stand-in gateway's answer: [status, body] (body undefined: no content). */
function answerFor(method: string, path: string): [number, unknown] {
  if (path === '/api/admin/whoami') return [200, { role: 'admin' }]
  if (path.startsWith('/api/admin/agents')) return [200, agentList]
  if (path === '/api/admin/policies/missing') {
    return [404, { error: { code: 'not_found', message: 'no rule missing', retryable: false } }]
  }
  if (path === '/api/admin/policies' && method === 'POST') return [201, rule]
  if (path === '/api/admin/policies/default' && method === 'PUT') return [200, policyList]
  if (path === '/api/admin/policies') return [200, policyList]
  if (path.startsWith('/api/admin/policies/') && method === 'DELETE') return [204, undefined]
  if (path.startsWith('/api/admin/policies/')) return [200, rule]
  if (path.startsWith('/api/admin/grants/'))
    return [200, { ...liveGrant, revokedAt: '2024-05-01T11:00:00.000Z' }]
  if (path.startsWith('/api/admin/grants')) return [200, liveGrants]
  if (path.startsWith('/api/admin/conversations')) {
    return [200, { a: 'planner', b: 'billing', events: conversationRows, nextCursor: null }]
  }
  return [404, { error: { code: 'not_found', message: path, retryable: false } }]
}

const gateway = useStandInGateway(({ method, path }) => answerFor(method, path))
const { seen } = gateway
const loggedInCookie = () => gateway.login(ADMIN_TOKEN)

function get(path: string, cookie: string): Request {
  return new Request(`${DASHBOARD}${path}`, { headers: { cookie } })
}

const newRule = {
  effect: 'deny',
  actions: ['stream'],
  subject: { kind: 'principal', pattern: '*' },
  target: { kind: 'principal', pattern: 'billing-key' },
}

function everyAction(cookie: string, site: 'same-origin' | 'cross-site') {
  return [
    () => proxyRoute(action('/api/gw/policies', 'POST', cookie, newRule, site)),
    () =>
      proxyRoute(
        action('/api/gw/policies/r 1', 'PATCH', cookie, { priority: 5, description: null }, site),
        params({ id: 'r 1' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/policies/default', 'DELETE', cookie, undefined, site),
        params({ id: 'default' }),
      ),
    () => proxyRoute(action('/api/gw/policies/default', 'PUT', cookie, { effect: 'deny' }, site)),
    () =>
      proxyRoute(action('/api/gw/grants/grt_1', 'DELETE', cookie, undefined, site), params({ id: 'grt_1' })),
  ]
}

describe('/api/gw agent routes', () => {
  it('read agents, policies, grants and conversations with the session token and the query passed on', async () => {
    const cookie = await loggedInCookie()
    expect(await (await proxyRoute(get('/api/gw/agents?capability=summarize', cookie))).json()).toEqual({
      ok: true,
      data: agentList,
    })
    expect(await (await proxyRoute(get('/api/gw/policies', cookie))).json()).toEqual({
      ok: true,
      data: policyList,
    })
    expect(await (await proxyRoute(get('/api/gw/grants?all=true', cookie))).json()).toEqual({
      ok: true,
      data: liveGrants,
    })
    const conversation = await proxyRoute(
      get('/api/gw/conversations?a=planner&b=billing&cursor=c1&limit=100', cookie),
    )
    expect(await conversation.json()).toMatchObject({
      ok: true,
      data: { a: 'planner', events: conversationRows },
    })
    expect(seen.map((request) => `${request.method} ${request.path} ${request.authorization}`)).toEqual([
      `GET /api/admin/agents?capability=summarize Bearer ${SESSION}`,
      `GET /api/admin/policies Bearer ${SESSION}`,
      `GET /api/admin/grants?all=true Bearer ${SESSION}`,
      `GET /api/admin/conversations?a=planner&b=billing&cursor=c1&limit=100 Bearer ${SESSION}`,
    ])
  })

  it('forward every action with its method, path and parsed body; a 204 deletion passes on as a bare success', async () => {
    const cookie = await loggedInCookie()
    const answers: unknown[] = []
    for (const call of everyAction(cookie, 'same-origin')) {
      const response = await call()
      expect(response.status).toBe(200)
      answers.push(await response.json())
    }
    // The proxy passes the 204 on as a bare success; the browser's call names the deleted rule.
    expect(answers[2]).toEqual({ ok: true })
    expect(answers[4]).toMatchObject({
      ok: true,
      data: { id: 'grt_1', revokedAt: '2024-05-01T11:00:00.000Z' },
    })
    expect(seen.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/api/admin/policies', body: newRule },
      { method: 'PATCH', path: '/api/admin/policies/r%201', body: { priority: 5, description: null } },
      { method: 'DELETE', path: '/api/admin/policies/default', body: undefined },
      { method: 'PUT', path: '/api/admin/policies/default', body: { effect: 'deny' } },
      { method: 'DELETE', path: '/api/admin/grants/grt_1', body: undefined },
    ])
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

  it('refuse a rule that does not match the protocol, a bad default and bad queries with 400 naming the field', async () => {
    const cookie = await loggedInCookie()
    const noActions = await proxyRoute(
      action('/api/gw/policies', 'POST', cookie, { ...newRule, actions: [] }),
    )
    expect(noActions.status).toBe(400)
    expect(await noActions.json()).toMatchObject({
      failure: { code: 'invalid_body', message: expect.stringContaining('actions') },
    })
    const badDefault = await proxyRoute(
      action('/api/gw/policies/default', 'PUT', cookie, { effect: 'require_introduction' }),
    )
    expect(badDefault.status).toBe(400)
    const noB = await proxyRoute(get('/api/gw/conversations?a=planner', cookie))
    expect(noB.status).toBe(400)
    expect(await noB.json()).toMatchObject({
      failure: { code: 'invalid_filter', message: expect.stringMatching(/^b: /) },
    })
    const badAll = await proxyRoute(get('/api/gw/grants?all=yes', cookie))
    expect(badAll.status).toBe(400)
    const badCapability = await proxyRoute(get('/api/gw/agents?capability=a%20b', cookie))
    expect(badCapability.status).toBe(400)
    expect(seen).toEqual([])
  })

  it("pass the gateway's error envelope on: an unknown rule is a 404 with its code and message", async () => {
    const cookie = await loggedInCookie()
    const response = await proxyRoute(
      action('/api/gw/policies/missing', 'PATCH', cookie, { priority: 1 }),
      params({ id: 'missing' }),
    )
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({
      ok: false,
      failure: { kind: 'http', status: 404, code: 'not_found', message: 'no rule missing' },
    })
  })
})
