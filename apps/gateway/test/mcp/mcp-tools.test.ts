import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { McpToolList } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { hostAgent } from '../../src/agents/hosted-agent.js'
import { adminCall } from '../support/admin-api.js'
import { SdkFixture, waitUntil } from '../support/sdk-agents.js'
import { mcpClient } from './mcp-clients.js'

const SHARED = 'shared-gateway-token-0123'

const DENY_SECRETS_TO_B = (principal: string) => ({
  id: 'deny-secrets-b',
  effect: 'deny',
  actions: ['request', 'stream'],
  subject: { kind: 'principal', pattern: principal },
  target: { kind: 'capability', pattern: 'secret.*' },
  priority: 10,
})

describe('/mcp: Parley agents as MCP tools (official SDK client)', () => {
  const fixture = new SdkFixture()
  const clients: Client[] = []

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close()
    await fixture.dispose()
  })

  async function connect(token: string): Promise<Client> {
    const client = await mcpClient(`${fixture.url}/mcp`, token)
    clients.push(client)
    return client
  }

  async function startWithAgents() {
    const server = await fixture.start({ authToken: SHARED })
    const tokenA = await server.tokens.create({ name: 'a', role: 'client', scopes: ['mcp:*'] }, Date.now())
    const tokenB = await server.tokens.create({ name: 'b', role: 'client', scopes: ['mcp:*'] }, Date.now())
    const echo = fixture.agent({
      agentId: 'echo',
      authToken: SHARED,
      capabilities: [
        {
          name: 'echo',
          title: 'Echo',
          description: 'Answers with what it was given',
          inputSchema: {
            type: 'object',
            properties: { text: { type: 'string' } },
            required: ['text'],
          },
        },
        'count',
        'fail',
      ],
    })
    echo.handle('echo', (data) => ({ echoed: (data as { text: string }).text }))
    echo.handle('fail', () => {
      throw Object.assign(new Error('the ledger is closed'), { code: 'ledger_closed' })
    })
    echo.handleStream('count', async (data, sink) => {
      const upTo = (data as { upTo: number }).upTo
      for (let n = 1; n <= upTo; n += 1) await sink.write(`chunk ${n}`)
    })
    await echo.connect()
    const vault = fixture.agent({ agentId: 'vault', authToken: SHARED, capabilities: ['secret.read'] })
    vault.handle(() => 'the secret')
    await vault.connect()
    return { server, tokenA, tokenB, echo, vault }
  }

  it('lists exactly the tools each token may call: a deny rule hides a tool from B, and B calling it is refused with the rule', async () => {
    const { tokenA, tokenB } = await startWithAgents()
    expect(
      (await adminCall(fixture.url, 'POST', '/api/admin/policies', DENY_SECRETS_TO_B(tokenB.record.id)))
        .status,
    ).toBe(201)

    const a = await connect(tokenA.token)
    const toolsOfA = (await a.listTools()).tools
    expect(toolsOfA.map((tool) => tool.name).sort()).toEqual([
      'echo__count',
      'echo__echo',
      'echo__fail',
      'vault__secret.read',
    ])
    expect(toolsOfA.find((tool) => tool.name === 'echo__echo')).toMatchObject({
      title: 'Echo',
      description: 'Answers with what it was given',
      inputSchema: { type: 'object', required: ['text'] },
    })
    expect(toolsOfA.find((tool) => tool.name === 'echo__fail')?.inputSchema).toEqual({ type: 'object' })

    const b = await connect(tokenB.token)
    expect((await b.listTools()).tools.map((tool) => tool.name).sort()).toEqual([
      'echo__count',
      'echo__echo',
      'echo__fail',
    ])
    const refused = await b.callTool({ name: 'vault__secret.read', arguments: {} }).catch((error) => error)
    expect(refused).toBeInstanceOf(McpError)
    expect(refused).toMatchObject({
      code: -32003,
      data: { code: 'policy_denied', details: { rule: 'deny-secrets-b' } },
    })
    expect(await a.callTool({ name: 'vault__secret.read', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'the secret' }],
    })
  })

  it('calls a tool served by a plain AgentClient and gets its result, text and structured', async () => {
    const { tokenA } = await startWithAgents()
    const a = await connect(tokenA.token)
    const result = await a.callTool({ name: 'echo__echo', arguments: { text: 'hello' } })
    expect(result).toEqual({
      content: [{ type: 'text', text: JSON.stringify({ echoed: 'hello' }) }],
      structuredContent: { echoed: 'hello' },
    })
  })

  it("delivers a streaming agent's chunks as progress notifications, in order, and all chunks as the result", async () => {
    const { tokenA } = await startWithAgents()
    const a = await connect(tokenA.token)
    const progress: Array<{ progress: number; message?: string }> = []
    const result = await a.callTool({ name: 'echo__count', arguments: { upTo: 3 } }, undefined, {
      onprogress: (update) => progress.push({ progress: update.progress, message: update.message }),
    })
    expect(progress).toEqual([
      { progress: 1, message: 'chunk 1' },
      { progress: 2, message: 'chunk 2' },
      { progress: 3, message: 'chunk 3' },
    ])
    expect(result.content).toEqual([
      { type: 'text', text: 'chunk 1' },
      { type: 'text', text: 'chunk 2' },
      { type: 'text', text: 'chunk 3' },
    ])
  })

  it('asks an agent without a stream handler with a plain request when the call carries a progress token', async () => {
    const { tokenA } = await startWithAgents()
    const a = await connect(tokenA.token)
    const result = await a.callTool({ name: 'echo__echo', arguments: { text: 'hi' } }, undefined, {
      onprogress: () => {},
    })
    expect(result.structuredContent).toEqual({ echoed: 'hi' })
  })

  it("answers an agent error as a tool result with isError and the agent's code and message", async () => {
    const { tokenA } = await startWithAgents()
    const a = await connect(tokenA.token)
    const result = await a.callTool({ name: 'echo__fail', arguments: {} })
    expect(result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'ledger_closed: the ledger is closed' }],
      structuredContent: { error: { code: 'ledger_closed', message: 'the ledger is closed' } },
    })
  })

  it('audits tools/list and tools/call (principal, tool, agent, latency, outcome) and shares the correlation id with the request rows', async () => {
    const { server, tokenA, tokenB } = await startWithAgents()
    await adminCall(fixture.url, 'POST', '/api/admin/policies', DENY_SECRETS_TO_B(tokenB.record.id))
    const a = await connect(tokenA.token)
    await a.listTools()
    await a.callTool({ name: 'echo__echo', arguments: { text: 'x' } })
    const b = await connect(tokenB.token)
    await b.callTool({ name: 'vault__secret.read', arguments: {} }).catch(() => undefined)
    await server.audit?.flush()
    const rows = (await server.audit?.query({ kind: 'mcp', limit: 50 }))?.events ?? []
    expect(rows.find((row) => row.detail?.startsWith('tools/list'))).toMatchObject({
      principal: tokenA.record.id,
      outcome: 'ok',
    })
    const call = rows.find((row) => row.detail === 'tools/call echo__echo')
    expect(call).toMatchObject({ principal: tokenA.record.id, target: 'echo', outcome: 'ok' })
    expect(call?.latencyMs).toBeGreaterThanOrEqual(0)
    expect(call?.correlationId).toBeTruthy()
    const replies = (await server.audit?.query({ correlationId: call?.correlationId as string, limit: 10 }))
      ?.events
    expect(replies?.map((row) => row.kind)).toContain('reply')
    expect(
      rows.find((row) => row.principal === tokenB.record.id && row.detail?.includes('vault')),
    ).toMatchObject({
      outcome: 'denied',
      target: 'vault',
      detail: 'tools/call vault__secret.read policy_denied rule=deny-secrets-b',
    })
  })

  it('shows per-tool counts and what a principal could list in GET /api/admin/mcp/tools, and the Prometheus counter', async () => {
    const { tokenA, tokenB } = await startWithAgents()
    await adminCall(fixture.url, 'POST', '/api/admin/policies', DENY_SECRETS_TO_B(tokenB.record.id))
    const a = await connect(tokenA.token)
    await a.callTool({ name: 'echo__echo', arguments: { text: 'x' } })
    await a.callTool({ name: 'echo__fail', arguments: {} })
    const all = McpToolList.parse((await adminCall(fixture.url, 'GET', '/api/admin/mcp/tools')).body)
    expect(all.as).toBeNull()
    expect(all.tools.find((tool) => tool.name === 'echo__echo')).toMatchObject({
      origin: 'agent',
      owner: 'echo',
      source: 'echo',
      description: 'Answers with what it was given',
      calls: 1,
      errors: 0,
    })
    expect(all.tools.find((tool) => tool.name === 'echo__fail')).toMatchObject({ calls: 1, errors: 1 })
    const viewedAsB = McpToolList.parse(
      (await adminCall(fixture.url, 'GET', `/api/admin/mcp/tools?as=${tokenB.record.id}&role=client`)).body,
    )
    expect(viewedAsB.as).toBe(tokenB.record.id)
    expect(viewedAsB.tools.map((tool) => tool.name).sort()).toEqual([
      'echo__count',
      'echo__echo',
      'echo__fail',
    ])
    expect((await adminCall(fixture.url, 'GET', '/api/admin/mcp/tools?role=wizard')).status).toBe(400)
    const metrics = await (await fetch(`${fixture.url}/metrics`)).text()
    expect(metrics).toContain('parley_mcp_tool_calls_total{tool="echo__echo",outcome="ok"} 1')
    expect(metrics).toContain('parley_mcp_tool_calls_total{tool="echo__fail",outcome="tool_error"} 1')
  })

  it('refuses a call beyond agents.maxInFlightPerConnection calls of one principal with rate_limited, and takes the next once one ended', async () => {
    await fixture.start({ authToken: SHARED, agents: { maxInFlightPerConnection: 1 } })
    const slow = fixture.agent({ agentId: 'slow', authToken: SHARED, capabilities: ['wait'] })
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let asked = 0
    slow.handle(async () => {
      asked += 1
      await released
      return 'done'
    })
    await slow.connect()
    const client = await connect(SHARED)
    const first = client.callTool({ name: 'slow__wait', arguments: {} })
    await waitUntil(() => asked === 1, 10_000, 'the first call to reach the agent')
    const second = await client.callTool({ name: 'slow__wait', arguments: {} }).catch((error) => error)
    expect(second).toMatchObject({ code: -32005, data: { code: 'rate_limited' } })
    release()
    expect(await first).toMatchObject({ content: [{ type: 'text', text: 'done' }] })
    expect(await client.callTool({ name: 'slow__wait', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'done' }],
    })
  })

  it("lists an upstream server's tool (an mcp-kind instance, capability mcp:{server}__{tool}) as {server}__{tool} and passes its CallToolResult through", async () => {
    const server = await fixture.start({ authToken: SHARED })
    const upstream = hostAgent(
      server.gateway.agents,
      {
        agentId: 'mcp.github',
        principal: 'mcp:github',
        capabilities: [
          {
            name: 'mcp:github__create_issue',
            description: 'Opens an issue',
            inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
          },
        ],
        reach: { kind: 'mcp', url: 'http://127.0.0.1:1/mcp' },
      },
      {
        request: async (call) => ({
          content: [{ type: 'text', text: `opened ${(call.data as { title: string }).title}` }],
          structuredContent: { number: 7 },
        }),
      },
    )
    try {
      const client = await connect(SHARED)
      expect((await client.listTools()).tools).toEqual([
        {
          name: 'github__create_issue',
          description: 'Opens an issue',
          inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
        },
      ])
      // With a progress token too: an upstream tool is never served as a stream.
      expect(
        await client.callTool({ name: 'github__create_issue', arguments: { title: 'bug' } }, undefined, {
          onprogress: () => {},
        }),
      ).toEqual({ content: [{ type: 'text', text: 'opened bug' }], structuredContent: { number: 7 } })
      const viewed = McpToolList.parse((await adminCall(fixture.url, 'GET', '/api/admin/mcp/tools')).body)
      expect(viewed.tools).toEqual([
        expect.objectContaining({
          name: 'github__create_issue',
          origin: 'upstream',
          owner: 'github',
          source: 'create_issue',
          calls: 1,
        }),
      ])
      const broken = hostAgent(
        server.gateway.agents,
        {
          agentId: 'mcp.broken',
          principal: 'mcp:broken',
          capabilities: ['mcp:broken__tool'],
          reach: { kind: 'mcp', url: 'http://127.0.0.1:1/mcp' },
        },
        { request: async () => ({ content: 'not a list' }) },
      )
      const refused = await client.callTool({ name: 'broken__tool', arguments: {} }).catch((error) => error)
      broken.close()
      expect(refused).toMatchObject({ code: -32603, data: { code: 'internal' } })
    } finally {
      upstream.close()
    }
  })

  it('publishes an object output schema and a non-object input schema as the input argument', async () => {
    await fixture.start({ authToken: SHARED })
    const words = fixture.agent({
      agentId: 'words',
      authToken: SHARED,
      capabilities: [
        {
          name: 'count',
          inputSchema: { type: 'string' },
          outputSchema: { type: 'object', properties: { words: { type: 'integer' } }, required: ['words'] },
        },
      ],
    })
    words.handle((data) => ({ words: String(data).split(' ').length }))
    await words.connect()
    const client = await connect(SHARED)
    expect((await client.listTools()).tools).toEqual([
      {
        name: 'words__count',
        inputSchema: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] },
        outputSchema: { type: 'object', properties: { words: { type: 'integer' } }, required: ['words'] },
      },
    ])
    expect(
      await client.callTool({ name: 'words__count', arguments: { input: 'one two three' } }),
    ).toMatchObject({
      structuredContent: { words: 3 },
    })
    const refused = await client
      .callTool({ name: 'words__count', arguments: { input: 3 } })
      .catch((error) => error)
    expect(refused).toMatchObject({ code: -32602, data: { code: 'bad_request' } })
  })

  it('serves no /mcp with mcp.enabled false', async () => {
    await fixture.start({ authToken: SHARED, mcp: { enabled: false } })
    const answer = await fetch(`${fixture.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHARED}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(answer.status).toBe(404)
    expect((await fetch(`${fixture.url}/.well-known/oauth-protected-resource/mcp`)).status).toBe(404)
  })

  it("passes the client's cancellation (notifications/cancelled, a POST of its own) to the agent: its handler signal fires", async () => {
    await fixture.start({ authToken: SHARED })
    const slow = fixture.agent({ agentId: 'slow', authToken: SHARED, capabilities: ['wait'] })
    let started = false
    let aborted = false
    slow.handle(
      (_data, context) =>
        new Promise((resolve) => {
          started = true
          context.signal.addEventListener('abort', () => {
            aborted = true
            resolve('stopped')
          })
        }),
    )
    await slow.connect()
    const client = await connect(SHARED)
    const controller = new AbortController()
    const call = client.callTool({ name: 'slow__wait', arguments: {} }, undefined, {
      signal: controller.signal,
    })
    await waitUntil(() => started, 10_000, 'the call to reach the agent')
    controller.abort('changed my mind')
    await expect(call).rejects.toThrow()
    await waitUntil(() => aborted, 10_000, "the agent's handler signal")
  })

  it('sends notifications/tools/list_changed on the GET stream when an agent comes and when it goes', async () => {
    await fixture.start({ authToken: SHARED, mcp: { listChangedInterval: 0.1 } })
    const token = await fixture.server?.tokens.create({ name: 'a', role: 'client', scopes: [] }, Date.now())
    const client = await connect(token?.token as string)
    let changes = 0
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes += 1
    })
    // The client opens its GET stream in the background: once it is open, its tool list is the baseline.
    await waitUntil(
      async () => (await (await fetch(`${fixture.url}/metrics`)).text()).includes('parley_mcp_streams 1'),
      10_000,
      'the GET stream',
    )
    const late = fixture.agent({ agentId: 'late', authToken: SHARED, capabilities: ['hello'] })
    late.handle(() => 'hi')
    await late.connect()
    await waitUntil(() => changes >= 1, 10_000, 'list_changed after a registration')
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['late__hello'])
    await late.close()
    await waitUntil(() => changes >= 2, 10_000, 'list_changed after the agent left')
  })
})
