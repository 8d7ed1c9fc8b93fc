import { describe, expect, it } from 'vitest'
import {
  dashboardAction as action,
  DASHBOARD,
  routeParams as params,
  proxyRoute,
  sessionSecretFor,
  useStandInGateway,
} from '@/test-support/stand-in-gateway'
import {
  a2aAgentList,
  completedTask,
  everyTool,
  mcpServerList,
  restrictedTools,
} from '@/test-support/upstream-fixtures'

const ADMIN_TOKEN = 'upstreams-admin-token'
const SESSION = sessionSecretFor(ADMIN_TOKEN)
const weather = a2aAgentList.agents[0]
const files = mcpServerList.servers[0]

function answerFor(method: string, path: string): [number, unknown] {
  if (path === '/api/admin/whoami') return [200, { role: 'admin' }]
  if (path === '/api/admin/a2a/agents' && method === 'POST') return [201, weather]
  if (path === '/api/admin/a2a/agents') return [200, a2aAgentList]
  if (path.endsWith('/refresh')) return [200, weather]
  if (path.startsWith('/api/admin/a2a/agents/') && method === 'DELETE') return [204, undefined]
  if (path.startsWith('/api/admin/a2a/tasks/missing')) {
    return [404, { error: { code: 'not_found', message: 'no A2A task missing', retryable: false } }]
  }
  if (path.startsWith('/api/admin/a2a/tasks/')) return [200, completedTask]
  if (path === '/api/admin/mcp/servers' && method === 'POST') return [201, files]
  if (path === '/api/admin/mcp/servers') return [200, mcpServerList]
  if (path.startsWith('/api/admin/mcp/servers/') && method === 'DELETE') return [204, undefined]
  if (path === '/api/admin/mcp/tools') return [200, everyTool]
  if (path.startsWith('/api/admin/mcp/tools?')) return [200, restrictedTools]
  return [404, { error: { code: 'not_found', message: path, retryable: false } }]
}

const gateway = useStandInGateway(({ method, path }) => answerFor(method, path))
const { seen } = gateway
const loggedInCookie = () => gateway.login(ADMIN_TOKEN)

function get(path: string, cookie: string): Request {
  return new Request(`${DASHBOARD}${path}`, { headers: { cookie } })
}

const newAgent = { urls: ['http://127.0.0.1:9001/'], credentials: { type: 'bearer', token: 'tok' } }
const newServer = { name: 'files', url: 'http://127.0.0.1:9100/mcp' }

function everyAction(cookie: string, site: 'same-origin' | 'cross-site') {
  return [
    () => proxyRoute(action('/api/gw/a2a/agents', 'POST', cookie, newAgent, site)),
    () =>
      proxyRoute(
        action('/api/gw/a2a/agents/weather/refresh', 'POST', cookie, undefined, site),
        params({ id: 'weather' }),
      ),
    () =>
      proxyRoute(
        action('/api/gw/a2a/agents/weather', 'DELETE', cookie, undefined, site),
        params({ id: 'weather' }),
      ),
    () => proxyRoute(action('/api/gw/mcp/servers', 'POST', cookie, newServer, site)),
    () =>
      proxyRoute(
        action('/api/gw/mcp/servers/files', 'DELETE', cookie, undefined, site),
        params({ id: 'files' }),
      ),
  ]
}

describe('/api/gw upstream routes', () => {
  it('read A2A agents, a task, MCP servers and tools (as a principal) with the session token', async () => {
    const cookie = await loggedInCookie()
    expect(await (await proxyRoute(get('/api/gw/a2a/agents', cookie))).json()).toEqual({
      ok: true,
      data: a2aAgentList,
    })
    const task = await proxyRoute(
      get('/api/gw/a2a/tasks/task-1?agentId=weather', cookie),
      params({ id: 'task-1' }),
    )
    expect(await task.json()).toEqual({ ok: true, data: completedTask })
    expect(await (await proxyRoute(get('/api/gw/mcp/servers', cookie))).json()).toEqual({
      ok: true,
      data: mcpServerList,
    })
    expect(await (await proxyRoute(get('/api/gw/mcp/tools', cookie))).json()).toEqual({
      ok: true,
      data: everyTool,
    })
    expect(
      await (await proxyRoute(get('/api/gw/mcp/tools?as=tok_restricted&role=client', cookie))).json(),
    ).toEqual({ ok: true, data: restrictedTools })
    expect(seen.map((request) => `${request.method} ${request.path} ${request.authorization}`)).toEqual([
      `GET /api/admin/a2a/agents Bearer ${SESSION}`,
      `GET /api/admin/a2a/tasks/task-1?agentId=weather Bearer ${SESSION}`,
      `GET /api/admin/mcp/servers Bearer ${SESSION}`,
      `GET /api/admin/mcp/tools Bearer ${SESSION}`,
      `GET /api/admin/mcp/tools?as=tok_restricted&role=client Bearer ${SESSION}`,
    ])
  })

  it('forward every action with its method, path and parsed body; a 204 removal passes on as a bare success', async () => {
    const cookie = await loggedInCookie()
    const answers: unknown[] = []
    for (const call of everyAction(cookie, 'same-origin')) {
      const response = await call()
      expect(response.status).toBe(200)
      answers.push(await response.json())
    }
    // The proxy passes the 204 on as a bare success; the browser's call names the removed upstream.
    expect(answers[2]).toEqual({ ok: true })
    expect(answers[4]).toEqual({ ok: true })
    expect(seen.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/api/admin/a2a/agents', body: newAgent },
      { method: 'POST', path: '/api/admin/a2a/agents/weather/refresh', body: undefined },
      { method: 'DELETE', path: '/api/admin/a2a/agents/weather', body: undefined },
      { method: 'POST', path: '/api/admin/mcp/servers', body: newServer },
      { method: 'DELETE', path: '/api/admin/mcp/servers/files', body: undefined },
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

  it('refuse bodies and queries that do not match the protocol with 400 naming the field', async () => {
    const cookie = await loggedInCookie()
    const noUrls = await proxyRoute(action('/api/gw/a2a/agents', 'POST', cookie, { urls: [] }))
    expect(noUrls.status).toBe(400)
    expect(await noUrls.json()).toMatchObject({
      failure: { code: 'invalid_body', message: expect.stringContaining('urls') },
    })
    const badName = await proxyRoute(
      action('/api/gw/mcp/servers', 'POST', cookie, { ...newServer, name: 'Bad Name' }),
    )
    expect(badName.status).toBe(400)
    const badRole = await proxyRoute(get('/api/gw/mcp/tools?as=x&role=root', cookie))
    expect(badRole.status).toBe(400)
    expect(await badRole.json()).toMatchObject({ failure: { message: expect.stringContaining('role') } })
    const roleAlone = await proxyRoute(get('/api/gw/mcp/tools?role=client', cookie))
    expect(roleAlone.status).toBe(400)
    const noAgent = await proxyRoute(get('/api/gw/a2a/tasks/task-1', cookie), params({ id: 'task-1' }))
    expect(noAgent.status).toBe(400)
    expect(seen).toEqual([])
  })

  it("pass the gateway's 404 envelope on for a task it no longer keeps", async () => {
    const cookie = await loggedInCookie()
    const response = await proxyRoute(
      get('/api/gw/a2a/tasks/missing?agentId=weather', cookie),
      params({ id: 'missing' }),
    )
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({
      ok: false,
      failure: { kind: 'http', status: 404, code: 'not_found', message: 'no A2A task missing' },
    })
  })
})
