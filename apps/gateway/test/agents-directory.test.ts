import { AgentList, AgentsListResult, Health } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import type { AgentAccess } from '../src/agents/types.js'
import { useAgentGateway, withAgentAccess } from './support/agent-clients.js'
import { adminHeaders } from './support/test-gateway.js'

const AGENT_TIMEOUT_S = 0.3
const TOKEN = 'shared-secret-token-0123456789'

describe('agent directory', () => {
  const harness = useAgentGateway()
  const start = (access?: AgentAccess) =>
    harness.start({ agentTimeout: AGENT_TIMEOUT_S, authToken: TOKEN }, withAgentAccess(access))
  const agent = (agentId: string, capabilities: string[] = [], clientId?: string) =>
    harness.agent(agentId, capabilities, { token: TOKEN, ...(clientId === undefined ? {} : { clientId }) })
  const client = () => harness.client({ token: TOKEN })

  async function adminList(query = ''): Promise<AgentList> {
    const response = await fetch(`${harness.server.started.url}/api/admin/agents${query}`, {
      headers: adminHeaders(),
    })
    expect(response.status).toBe(200)
    return AgentList.parse(await response.json())
  }

  async function health(): Promise<Health> {
    return Health.parse(await (await fetch(`${harness.server.started.url}/health`)).json())
  }

  it('gives every agent of the admin listing its A2A card URL on this gateway', async () => {
    await start()
    await agent('summarizer', ['summarize'])
    const { agents } = await adminList()
    expect(agents[0]?.cardUrl).toBe(
      `${harness.server.started.url}/a2a/summarizer/.well-known/agent-card.json`,
    )
    const card = await fetch(agents[0]?.cardUrl ?? '', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(card.status).toBe(200)
  })

  it('lists a registered agent with its instance over agents_list', async () => {
    await start()
    const { instanceId } = await agent('summarizer', ['summarize', 'translate.fr'])
    const caller = await client()
    const { agents } = AgentsListResult.parse(await caller.ok({ type: 'agents_list' }))
    expect(agents).toHaveLength(1)
    expect(agents[0]).toMatchObject({
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate.fr'],
      status: 'active',
    })
    expect(agents[0]?.instances[0]).toMatchObject({ instanceId, status: 'active', inFlight: 0 })
    const filtered = AgentsListResult.parse(
      await caller.ok({ type: 'agents_list', capability: 'translate.fr' }),
    )
    expect(filtered.agents).toHaveLength(1)
    expect(
      AgentsListResult.parse(await caller.ok({ type: 'agents_list', capability: 'fly' })).agents,
    ).toHaveLength(0)
  })

  it('keeps the descriptions and input schemas agents give of their capabilities, cluster-wide listings included', async () => {
    await start()
    const registrar = await client()
    const inputSchema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }
    expect(
      await registrar.ok({
        type: 'agent_register',
        agentId: 'translator',
        capabilities: [
          'detect',
          { name: 'translate.fr', title: 'To French', description: 'Translates to French', inputSchema },
        ],
      }),
    ).toMatchObject({ capabilities: ['detect', 'translate.fr'] })
    const listed = (await adminList()).agents[0]
    expect(listed).toMatchObject({ agentId: 'translator', capabilities: ['detect', 'translate.fr'] })
    expect(listed?.instances[0]?.capabilityInfo).toEqual({
      'translate.fr': { title: 'To French', description: 'Translates to French', inputSchema },
    })
  })

  it('refuses a registration whose input schema does not compile, naming the capability', async () => {
    await start()
    const registrar = await client()
    const refused = await registrar.request({
      type: 'agent_register',
      agentId: 'broken',
      capabilities: [{ name: 'plot', inputSchema: { type: 'no-such-type' } }],
    })
    expect(refused).toMatchObject({ type: 'error', code: 'invalid_frame', retryable: false })
    expect(String((refused as { message?: string }).message)).toMatch(/capability plot: inputSchema/)
    expect((await adminList()).agents).toHaveLength(0)
  })

  it('marks an instance inactive after disconnect, never routes to it, and removes it after agentTimeout', async () => {
    await start()
    const { client: gone } = await agent('ephemeral')
    expect((await health()).connected_agents).toBe(1)
    gone.close()
    await gone.waitClosed()
    await expect.poll(async () => (await adminList()).agents[0]?.status, { timeout: 5_000 }).toBe('inactive')
    expect((await health()).connected_agents).toBe(0)
    const caller = await client()
    expect(await caller.request({ type: 'request', target: 'ephemeral', data: 1 })).toMatchObject({
      type: 'error',
      code: 'no_route',
    })
    await expect.poll(async () => (await adminList()).agents, { timeout: 5_000 }).toHaveLength(0)
  })

  it('marks an instance inactive when its connection stops answering heartbeats', async () => {
    // 0.5 s: a loaded machine registers the agent within two intervals of its hello.
    const server = await harness.start({ heartbeatInterval: 0.5, agentTimeout: 60 })
    // The raw test client never answers pings: the gateway reaps it after two silent intervals.
    const { client: silent } = await harness.agent('silent')
    await silent.waitClosed()
    const listed = await adminList()
    expect(listed.agents[0]).toMatchObject({ agentId: 'silent', status: 'inactive' })
    expect(server.gateway.stats().reaped).toBe(1)
  })

  it('keeps an agent listed when it re-registers after a reconnect (same client id)', async () => {
    await start()
    const { client: first } = await agent('steady', [], 'steady-client')
    first.close()
    await first.waitClosed()
    await expect.poll(async () => (await adminList()).agents[0]?.status, { timeout: 5_000 }).toBe('inactive')
    const { instanceId } = await agent('steady', [], 'steady-client')
    const listed = await adminList()
    expect(listed.agents).toHaveLength(1)
    expect(listed.agents[0]?.instances).toHaveLength(1)
    expect(listed.agents[0]?.instances[0]).toMatchObject({ instanceId, status: 'active' })
    // Well past agentTimeout it is still there: waiting out the timer is the point here, no event marks it.
    await new Promise((resolve) => setTimeout(resolve, AGENT_TIMEOUT_S * 1000 * 2))
    expect((await adminList()).agents[0]?.status).toBe('active')
  })

  it('serves GET /agents to any valid credential, filtered by access, and 401 without one', async () => {
    await start({
      check: (request) =>
        request.action === 'request' && 'agentId' in request.target && request.target.agentId === 'hidden'
          ? { allowed: false, code: 'policy_denied', message: 'no' }
          : { allowed: true, effect: 'default' },
    })
    await agent('visible', ['a'])
    await agent('hidden', ['a'])
    const response = await fetch(`${harness.server.started.url}/agents`, {
      headers: { authorization: 'Bearer shared-secret-token-0123456789' },
    })
    expect(response.status).toBe(200)
    const body = AgentList.parse(await response.json())
    expect(body.agents.map((entry) => entry.agentId)).toEqual(['visible'])
    expect((await fetch(`${harness.server.started.url}/agents`)).status).toBe(401)
    const bad = await fetch(
      `${harness.server.started.url}/agents?capability=${encodeURIComponent('no spaces')}`,
      {
        headers: { authorization: 'Bearer shared-secret-token-0123456789' },
      },
    )
    expect(bad.status).toBe(400)
    // The admin list has everything.
    expect((await adminList()).agents.map((entry) => entry.agentId)).toEqual(['hidden', 'visible'])
    expect((await adminList('?capability=b')).agents).toHaveLength(0)
    const notAdmin = await fetch(`${harness.server.started.url}/api/admin/agents`, {
      headers: { authorization: 'Bearer shared-secret-token-0123456789' },
    })
    expect(notAdmin.status).toBe(403)
  })

  it('counts active instances in /health connected_agents', async () => {
    await start()
    expect((await health()).connected_agents).toBe(0)
    await agent('one')
    const { client: two } = await agent('two')
    expect((await health()).connected_agents).toBe(2)
    expect(await two.ok({ type: 'agent_unregister' })).toEqual({ agentId: 'two' })
    expect((await health()).connected_agents).toBe(1)
  })

  it('answers malformed agent frames with typed errors and keeps the connection', async () => {
    await start()
    const { client: worker } = await agent('worker')
    const caller = await client()
    expect(await caller.request({ type: 'request', target: 'not a valid id!', data: 1 })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    })
    expect(await caller.request({ type: 'request', target: { capability: 5 }, data: 1 })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    })
    expect(await caller.request({ type: 'agent_register', agentId: '' })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    })
    worker.send({
      type: 'respond',
      correlationId: 'req_x',
      data: 1,
      error: { code: 'x', message: 'both' },
    })
    expect(await worker.next('error')).toMatchObject({ code: 'invalid_frame' })
    // A respond nobody waits for is dropped without an answer.
    worker.send({ type: 'respond', correlationId: 'req_unknown', data: 1 })
    caller.send({ type: 'stream_chunk', streamId: 'str_unknown', seq: 1, data: 1 })
    expect(await caller.waitFor((frame) => frame.type === 'error' && frame.id === undefined)).toMatchObject({
      code: 'not_found',
    })
    expect(await caller.request({ type: 'agent_unregister' })).toMatchObject({
      type: 'error',
      code: 'invalid_state',
    })
    // Both connections still work.
    expect(AgentsListResult.parse(await caller.ok({ type: 'agents_list' })).agents).toHaveLength(1)
    expect(worker.framesOf('error')).toHaveLength(1)
    expect(await worker.ok({ type: 'agents_list' })).toBeDefined()
  })
})
