import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import {
  type AgentCaller,
  AgentUnavailableError,
  type McpCallToolResult,
  NoRouteError,
  PolicyDeniedError,
} from '@parley/client'
import {
  AuditPage,
  CreatedToken,
  HttpError,
  McpServerInfo,
  McpServerList,
  McpToolList,
  mcpUpstreamToolName,
} from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { GatewayConfigInput } from '../../src/config.js'
import { adminCall } from '../support/admin-api.js'
import { capturingLogger } from '../support/capturing-logger.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway } from '../support/test-gateway.js'
import { startTestUpstream, type TestUpstream } from './mcp-upstream-server.js'

/** Short retries so a restarted upstream is back quickly; a long refresh unless a test is about the schedule. */
const FAST_UPSTREAMS: GatewayConfigInput = {
  mcpUpstreams: { refreshInterval: 60, retryInitial: 0.05, retryMax: 0.2, timeout: 5 },
}
const POLL = { timeout: 10_000, interval: 20 }
const UPSTREAM_TOKEN = 'upstream-bearer-secret-4b1d9e'

/** A calculator: `add` (with input and output schemas) and `files.read` (an odd name; always a tool error). */
function calculatorTools(server: import('@modelcontextprotocol/sdk/server/mcp.js').McpServer): void {
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  )
  server.registerTool(
    'files.read',
    { description: 'Reads a file', inputSchema: { path: z.string() } },
    async ({ path }) => ({ content: [{ type: 'text', text: `no such file: ${path}` }], isError: true }),
  )
}

describe('upstream MCP servers', () => {
  const fixture = new SdkFixture()
  const upstreams: TestUpstream[] = []

  afterEach(async () => {
    await fixture.dispose()
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.stop()))
  })

  const admin = (method: string, path: string, body?: unknown) => adminCall(fixture.url, method, path, body)

  async function upstream(options: Parameters<typeof startTestUpstream>[0]): Promise<TestUpstream> {
    const started = await startTestUpstream(options)
    upstreams.push(started)
    return started
  }

  async function register(name: string, url: string, credentials?: unknown): Promise<McpServerInfo> {
    const added = await admin('POST', '/api/admin/mcp/servers', {
      name,
      url,
      ...(credentials === undefined ? {} : { credentials }),
    })
    expect(added.status).toBe(201)
    return McpServerInfo.parse(added.body)
  }

  async function servers(): Promise<McpServerInfo[]> {
    const listed = await admin('GET', '/api/admin/mcp/servers')
    expect(listed.status).toBe(200)
    return McpServerList.parse(listed.body).servers
  }

  async function connectedCaller(clientId = 'tool-user'): Promise<AgentCaller> {
    const caller = fixture.caller(clientId)
    await caller.connect()
    return caller
  }

  /** The capabilities of the `mcp.<server>` agent as the caller's listing shows them (none when absent). */
  async function listedCapabilities(caller: AgentCaller, server: string): Promise<string[]> {
    const agent = (await caller.agents()).find((listed) => listed.agentId === `mcp.${server}`)
    return agent === undefined ? [] : [...agent.capabilities].sort()
  }

  it('registers a server through the admin API, lists its tools as {server}__{tool} and calls them by capability and with callTool, presenting its credentials', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools })
    const info = await register('calc', calc.url, { type: 'bearer', token: UPSTREAM_TOKEN })
    expect(info).toMatchObject({ name: 'calc', health: { state: 'up', url: calc.url, lastError: null } })
    expect(info.credentials).toBe('bearer')
    expect(info.tools.map((tool) => [tool.name, tool.source, tool.origin, tool.owner])).toEqual([
      ['calc__add', 'add', 'upstream', 'calc'],
      ['calc__files.2eread', 'files.read', 'upstream', 'calc'],
    ])

    const caller = await connectedCaller()
    const agents = await caller.agents()
    const agent = agents.find((listed) => listed.agentId === 'mcp.calc')
    expect(agent?.capabilities.sort()).toEqual(['mcp:calc__add', 'mcp:calc__files.2eread'])
    // One instance per tool, so a policy on a tool's capability decides for that tool alone.
    expect(agent?.instances.map((instance) => instance.capabilities.length)).toEqual([1, 1])
    const addInstance = agent?.instances.find((instance) => instance.capabilities.includes('mcp:calc__add'))
    expect(addInstance).toMatchObject({
      kind: 'mcp',
      url: calc.url,
      principal: 'mcp:calc',
      capabilityInfo: {
        'mcp:calc__add': {
          description: 'Adds two numbers',
          inputSchema: { type: 'object', required: ['a', 'b'] },
          outputSchema: { properties: { sum: { type: 'number' } } },
        },
      },
    })

    const byRequest = await caller.request<McpCallToolResult>({ capability: 'mcp:calc__add' }, { a: 2, b: 3 })
    expect(byRequest).toEqual({ content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } })
    // A tool's own failure is its answer, not a rejection.
    const failed = await caller.callTool('calc', 'files.read', { path: '/etc/motd' })
    expect(failed).toEqual({ content: [{ type: 'text', text: 'no such file: /etc/motd' }], isError: true })

    expect(calc.seenHeaders.length).toBeGreaterThanOrEqual(3)
    for (const headers of calc.seenHeaders)
      expect(headers.get('authorization')).toBe(`Bearer ${UPSTREAM_TOKEN}`)

    const [listed] = await servers()
    expect(listed?.tools.map((tool) => [tool.name, tool.calls, tool.errors])).toEqual([
      ['calc__add', 1, 0],
      ['calc__files.2eread', 1, 1],
    ])
    expect(JSON.stringify(listed)).not.toContain(UPSTREAM_TOKEN)
  })

  it('a policy denying one tool refuses its call; the other tools of the server stay callable', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools })
    await register('calc', calc.url)
    const denied = await admin('POST', '/api/admin/policies', {
      id: 'no-calc-add',
      effect: 'deny',
      actions: ['request'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'mcp:calc__add' },
      priority: 10,
    })
    expect(denied.status).toBe(201)
    const caller = await connectedCaller()
    const refused = await caller.callTool('calc', 'add', { a: 1, b: 1 }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(PolicyDeniedError)
    expect(refused).toMatchObject({ rule: 'no-calc-add' })
    expect(await caller.callTool('calc', 'files.read', { path: 'x' })).toMatchObject({ isError: true })
    const [listed] = await servers()
    // The refused call never reached the upstream.
    expect(listed?.tools.find((tool) => tool.source === 'add')?.calls).toBe(0)
  })

  it('an upstream that stops: the call in flight gets agent_unavailable, its tools leave the listing, later calls get no_route; back on the same port, its tools return', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools })
    await register('calc', calc.url)
    const caller = await connectedCaller()
    expect(await caller.callTool('calc', 'add', { a: 1, b: 2 })).toMatchObject({
      structuredContent: { sum: 3 },
    })

    await calc.stop()
    // The refresh interval is a minute: only the failed call tells the gateway.
    const unavailable = await caller.callTool('calc', 'add', { a: 1, b: 2 }).catch((error: unknown) => error)
    expect(unavailable).toBeInstanceOf(AgentUnavailableError)
    expect((unavailable as Error).message).toContain('MCP server calc is unreachable')
    await expect.poll(() => listedCapabilities(caller, 'calc'), POLL).toEqual([])
    const [down] = await servers()
    expect(down).toMatchObject({ health: { state: 'down', lastError: expect.any(String) }, tools: [] })
    const noRoute = await caller.callTool('calc', 'add', { a: 1, b: 2 }).catch((error: unknown) => error)
    expect(noRoute).toBeInstanceOf(NoRouteError)

    await calc.start()
    await expect
      .poll(() => listedCapabilities(caller, 'calc'), POLL)
      .toEqual(['mcp:calc__add', 'mcp:calc__files.2eread'])
    expect(await caller.callTool('calc', 'add', { a: 20, b: 22 })).toMatchObject({
      structuredContent: { sum: 42 },
    })
    const [up] = await servers()
    expect(up).toMatchObject({ health: { state: 'up', lastError: null } })
  })

  it('the scheduled refresh notices a stopped upstream without any call, and picks up tools added since', async () => {
    await fixture.start({ mcpUpstreams: { ...FAST_UPSTREAMS.mcpUpstreams, refreshInterval: 0.1 } })
    let withExtraTool = false
    const calc = await upstream({
      tools: (server) => {
        calculatorTools(server)
        if (withExtraTool) {
          server.registerTool('negate', { inputSchema: { x: z.number() } }, async ({ x }) => ({
            content: [{ type: 'text', text: String(-x) }],
          }))
        }
      },
    })
    await register('calc', calc.url)
    const caller = await connectedCaller()
    // Stateless: every request meets a fresh server, which cannot announce a change; the schedule finds it.
    withExtraTool = true
    await expect
      .poll(() => listedCapabilities(caller, 'calc'), POLL)
      .toEqual(['mcp:calc__add', 'mcp:calc__files.2eread', 'mcp:calc__negate'])
    expect(await caller.callTool('calc', 'negate', { x: 5 })).toEqual({
      content: [{ type: 'text', text: '-5' }],
    })

    await calc.stop()
    await expect.poll(() => listedCapabilities(caller, 'calc'), POLL).toEqual([])
    await expect.poll(async () => (await servers())[0]?.health.state, POLL).toBe('down')
  })

  it("follows the server's notifications/tools/list_changed: a tool added at run time becomes callable", async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools, stateful: true })
    await register('calc', calc.url)
    const caller = await connectedCaller()
    expect(calc.sessions.size).toBe(1)
    // The gateway's client opens its notification stream after connecting: a change announced before is lost.
    await expect.poll(() => calc.notificationStreams(), POLL).toBe(1)
    // Added to the server of the gateway's session: McpServer announces it with list_changed.
    for (const session of calc.sessions.values()) {
      session.registerTool('shout', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text: text.toUpperCase() }],
      }))
    }
    await expect
      .poll(() => listedCapabilities(caller, 'calc'), POLL)
      .toEqual(['mcp:calc__add', 'mcp:calc__files.2eread', 'mcp:calc__shout'])
    expect(await caller.callTool('calc', 'shout', { text: 'hi' })).toEqual({
      content: [{ type: 'text', text: 'HI' }],
    })
  })

  it('refuses an agent that registers an mcp: capability, so no agent can take calls meant for an upstream tool', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const impostor = fixture.agent({ agentId: 'impostor', capabilities: ['mcp:calc__add'] })
    const refused = await impostor.connect().catch((error: unknown) => error)
    expect(refused).toMatchObject({
      code: 'invalid_frame',
      message: expect.stringContaining('mcp:calc__add'),
    })
    const caller = await connectedCaller()
    expect((await caller.agents()).map((agent) => agent.agentId)).not.toContain('impostor')
  })

  it('removing a server takes its tools away at once', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools })
    await register('calc', calc.url)
    const caller = await connectedCaller()
    expect(await listedCapabilities(caller, 'calc')).toHaveLength(2)
    expect((await admin('DELETE', '/api/admin/mcp/servers/calc')).status).toBe(204)
    expect(await listedCapabilities(caller, 'calc')).toEqual([])
    expect(await servers()).toEqual([])
    const gone = await caller.callTool('calc', 'add', { a: 1, b: 2 }).catch((error: unknown) => error)
    expect(gone).toBeInstanceOf(NoRouteError)
  })

  it('a server that is down when registered is registered anyway, shown down, and hosted once it answers', async () => {
    await fixture.start(FAST_UPSTREAMS)
    const calc = await upstream({ tools: calculatorTools })
    await calc.stop()
    const info = await register('calc', calc.url)
    expect(info).toMatchObject({ health: { state: 'down', lastError: expect.any(String) }, tools: [] })
    await calc.start()
    const caller = await connectedCaller()
    await expect.poll(() => listedCapabilities(caller, 'calc'), POLL).toHaveLength(2)
  })
})

/** The acceptance point through `/mcp` with the official SDK client. */
describe('upstream MCP tools through /mcp', () => {
  const fixture = new SdkFixture()
  const clients: Client[] = []

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    await fixture.dispose()
  })

  async function tokenFor(name: string): Promise<{ id: string; secret: string }> {
    const created = await adminCall(fixture.url, 'POST', '/api/admin/tokens', {
      name,
      role: 'client',
      scopes: ['*:*'],
    })
    expect(created.status).toBe(201)
    const token = CreatedToken.parse(created.body)
    return { id: token.info.id, secret: token.token }
  }

  async function mcpClient(secret: string): Promise<Client> {
    const client = new Client({ name: 'upstream-test', version: '1.0.0' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${fixture.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${secret}` } },
      }),
    )
    clients.push(client)
    return client
  }

  const upstreamToolNames = async (client: Client) =>
    (await client.listTools()).tools
      .map((tool) => tool.name)
      .filter((name) => name.startsWith('calc__'))
      .sort()

  it('lists the upstream tools as {server}__{tool}, hides a tool a policy denies and refuses calling it; the tools leave while the server is down and come back', async () => {
    // Nothing calls the stopped server here: the schedule notices it.
    await fixture.start({ mcpUpstreams: { ...FAST_UPSTREAMS.mcpUpstreams, refreshInterval: 0.1 } })
    const calc = await startTestUpstream({ tools: calculatorTools })
    try {
      expect(
        (await adminCall(fixture.url, 'POST', '/api/admin/mcp/servers', { name: 'calc', url: calc.url }))
          .status,
      ).toBe(201)
      const open = await tokenFor('open')
      const restricted = await tokenFor('restricted')
      const rule = await adminCall(fixture.url, 'POST', '/api/admin/policies', {
        id: 'restricted-no-add',
        effect: 'deny',
        actions: ['request'],
        subject: { kind: 'principal', pattern: restricted.id },
        target: { kind: 'capability', pattern: 'mcp:calc__add' },
        priority: 10,
      })
      expect(rule.status).toBe(201)

      const openClient = await mcpClient(open.secret)
      const restrictedClient = await mcpClient(restricted.secret)
      expect(await upstreamToolNames(openClient)).toEqual(['calc__add', 'calc__files.2eread'])
      expect(await upstreamToolNames(restrictedClient)).toEqual(['calc__files.2eread'])

      const called = await openClient.callTool({ name: 'calc__add', arguments: { a: 4, b: 5 } })
      expect(called).toMatchObject({ structuredContent: { sum: 9 } })
      const callAdd = (client: Client) =>
        client.callTool({ name: 'calc__add', arguments: { a: 4, b: 5 } }).then(
          (result) => result,
          (error: unknown) => error,
        )
      // A gateway refusal is a JSON-RPC error carrying Parley's error in `data`.
      const hidden = await callAdd(restrictedClient)
      expect(hidden).toBeInstanceOf(McpError)
      expect(hidden).toMatchObject({ data: { code: 'policy_denied' } })
      const listed = McpServerList.parse((await adminCall(fixture.url, 'GET', '/api/admin/mcp/servers')).body)
      // Only the open client's call reached the upstream.
      expect(listed.servers[0]?.tools.find((tool) => tool.source === 'add')?.calls).toBe(1)
      // The admin tool listing names the server's own tool (not its escaped name).
      const viewed = McpToolList.parse((await adminCall(fixture.url, 'GET', '/api/admin/mcp/tools')).body)
      expect(viewed.tools.find((tool) => tool.name === 'calc__files.2eread')).toMatchObject({
        origin: 'upstream',
        owner: 'calc',
        source: 'files.read',
      })

      await calc.stop()
      // The call that finds it gone is refused as unavailable; the gateway then takes its tools away.
      expect(await callAdd(openClient)).toMatchObject({ data: { code: 'agent_unavailable' } })
      await expect.poll(() => upstreamToolNames(openClient), POLL).toEqual([])
      expect(await callAdd(openClient)).toMatchObject({ data: { code: 'not_found' } })
      await calc.start()
      await expect
        .poll(() => upstreamToolNames(openClient), POLL)
        .toEqual(['calc__add', 'calc__files.2eread'])
    } finally {
      await calc.stop()
    }
  })

  it("publishes a tool under the name its capability gives (mcpUpstreamToolName), with the server's own name as source", async () => {
    await fixture.start(FAST_UPSTREAMS)
    const docs = await startTestUpstream({
      tools: (server) => {
        for (const name of ['read-data', 'get-hello', 'files.read']) {
          server.registerTool(name, {}, async () => ({ content: [{ type: 'text', text: name }] }))
        }
      },
    })
    try {
      expect(
        (await adminCall(fixture.url, 'POST', '/api/admin/mcp/servers', { name: 'docs', url: docs.url }))
          .status,
      ).toBe(201)
      const open = await tokenFor('open')
      const client = await mcpClient(open.secret)
      const names = (await client.listTools()).tools.map((tool) => tool.name).sort()
      expect(names).toEqual(['docs__files.2eread', 'docs__get-hello', 'docs__read-data'])
      expect(names).toEqual(
        ['files.read', 'get-hello', 'read-data'].map((tool) => mcpUpstreamToolName('docs', tool)),
      )
      expect(await client.callTool({ name: 'docs__read-data', arguments: {} })).toMatchObject({
        content: [{ type: 'text', text: 'read-data' }],
      })
      const viewed = McpToolList.parse((await adminCall(fixture.url, 'GET', '/api/admin/mcp/tools')).body)
      expect(
        viewed.tools
          .filter((tool) => tool.origin === 'upstream')
          .map((tool) => [tool.name, tool.source, tool.owner])
          .sort(),
      ).toEqual([
        ['docs__files.2eread', 'files.read', 'docs'],
        ['docs__get-hello', 'get-hello', 'docs'],
        ['docs__read-data', 'read-data', 'docs'],
      ])
    } finally {
      await docs.stop()
    }
  })
})

describe('upstream MCP server admin API', () => {
  it('refuses bad bodies, duplicate names and unknown names with typed errors, and audits additions and removals', async () => {
    const server = await startTestGateway(FAST_UPSTREAMS)
    const calc = await startTestUpstream({ tools: calculatorTools })
    try {
      const call = (method: string, path: string, body?: unknown) =>
        adminCall(server.started.url, method, path, body)
      const errorOf = (answer: { body: unknown }) => HttpError.parse(answer.body).error

      for (const body of [
        undefined,
        { name: 'Bad_Name', url: calc.url },
        { name: 'calc', url: 'ftp://example.com/mcp' },
        { name: 'calc', url: calc.url, extra: true },
        { name: 'calc', url: calc.url, credentials: { type: 'bearer' } },
        { name: 'calc', url: calc.url, credentials: { type: 'header', name: 'bad header', value: 'v' } },
      ]) {
        const refused = await call('POST', '/api/admin/mcp/servers', body)
        expect(refused.status).toBe(400)
        expect(errorOf(refused)).toMatchObject({
          code: 'bad_request',
          message: expect.stringContaining('MCP server'),
        })
      }
      const withUser = await call('POST', '/api/admin/mcp/servers', {
        name: 'calc',
        url: calc.url.replace('http://', 'http://user:pass@'),
      })
      expect(withUser.status).toBe(400)
      expect(errorOf(withUser).message).toContain('credentials')

      expect((await call('POST', '/api/admin/mcp/servers', { name: 'calc', url: calc.url })).status).toBe(201)
      const duplicate = await call('POST', '/api/admin/mcp/servers', { name: 'calc', url: calc.url })
      expect(duplicate.status).toBe(409)
      expect(errorOf(duplicate).code).toBe('conflict')
      const unknown = await call('DELETE', '/api/admin/mcp/servers/nope')
      expect(unknown.status).toBe(404)
      expect(errorOf(unknown).code).toBe('not_found')
      // A name no server can have is not found either (never a store error).
      const malformed = await call(
        'DELETE',
        `/api/admin/mcp/servers/${encodeURIComponent('Bad_Name:'.repeat(30))}`,
      )
      expect(malformed.status).toBe(404)
      expect(errorOf(malformed).code).toBe('not_found')
      expect((await call('DELETE', '/api/admin/mcp/servers/calc')).status).toBe(204)

      const anonymous = await fetch(`${server.started.url}/api/admin/mcp/servers`)
      expect(anonymous.status).toBe(401)

      const audit = AuditPage.parse((await call('GET', '/api/admin/audit?kind=admin&limit=100')).body)
      const details = audit.events.map((event) => event.detail)
      const port = new URL(calc.url).port
      expect(details).toEqual(
        expect.arrayContaining([
          `mcp server add calc http://127.0.0.1:${port}/mcp (201)`,
          `mcp server add calc http://127.0.0.1:${port}/mcp (409)`,
          'mcp server remove nope (404)',
          'mcp server remove calc (204)',
        ]),
      )
    } finally {
      await calc.stop()
      await server.dispose()
    }
  })

  it('keeps credentials out of answers, audit rows and logs, and presents a header credential to the server', async () => {
    const { logger, text: logText } = capturingLogger()
    const server = await startTestGateway(
      { mcpUpstreams: { ...FAST_UPSTREAMS.mcpUpstreams, refreshInterval: 0.1 } },
      { logger },
    )
    const calc = await startTestUpstream({ tools: calculatorTools })
    const secret = 'header-credential-value-77f0c2'
    try {
      const call = (method: string, path: string, body?: unknown) =>
        adminCall(server.started.url, method, path, body)
      const added = await call('POST', '/api/admin/mcp/servers', {
        name: 'calc',
        url: calc.url,
        credentials: { type: 'header', name: 'X-Api-Key', value: secret },
      })
      expect(added.status).toBe(201)
      expect(McpServerInfo.parse(added.body)).toMatchObject({
        credentials: 'header',
        health: { state: 'up' },
      })
      expect(calc.seenHeaders.every((headers) => headers.get('x-api-key') === secret)).toBe(true)
      // Down and back: failures are logged too, still without the secret.
      const state = async () =>
        McpServerList.parse((await call('GET', '/api/admin/mcp/servers')).body).servers[0]?.health.state
      await calc.stop()
      await expect.poll(state, POLL).toBe('down')
      await calc.start()
      await expect.poll(state, POLL).toBe('up')
      const listed = await call('GET', '/api/admin/mcp/servers')
      const audit = await call('GET', '/api/admin/audit?limit=200')
      for (const text of [
        JSON.stringify(added.body),
        JSON.stringify(listed.body),
        JSON.stringify(audit.body),
      ]) {
        expect(text).not.toContain(secret)
      }
      expect(logText()).toContain('MCP server is down; retrying')
      expect(logText()).toContain('MCP server is up')
      expect(logText()).not.toContain(secret)
    } finally {
      await calc.stop()
      await server.dispose()
    }
  })
})
