import {
  AuditPage,
  ConversationPage,
  type DirectTarget,
  GrantList,
  IntroduceResult,
  type ServerFrame,
} from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { AgentDirectory, AgentRoute } from '../src/agents/types.js'
import type { GatewayConfigInput } from '../src/config.js'
import type { AgentDirectoryHooks } from '../src/create-gateway.js'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

/**
 * A directory standing in for the cluster's: the test registers its clients as agent instances by their
 * connection id (from `welcome`), and frames to an instance go to its client id through the gateway's hook.
 */
class FakeDirectory implements AgentDirectory {
  hooks: AgentDirectoryHooks | undefined
  readonly #byConnection = new Map<string, AgentRoute>()
  readonly #gone = new Set<(route: AgentRoute) => void>()

  register(
    client: TestClient,
    agentId: string,
    options: { capabilities?: string[]; introductions?: AgentRoute['introductions'] } = {},
  ): AgentRoute {
    const [welcome] = client.framesOf('welcome')
    if (welcome === undefined) throw new Error('the client has no welcome')
    const route: AgentRoute = {
      instanceId: `inst-${agentId}-${this.#byConnection.size + 1}`,
      agentId,
      clientId: welcome.clientId,
      principal: 'anonymous',
      role: 'client',
      capabilities: options.capabilities ?? [],
      node: 'node-1',
      inFlight: 0,
      ...(options.introductions === undefined ? {} : { introductions: options.introductions }),
    }
    this.#byConnection.set(welcome.connectionId, route)
    return route
  }

  unregister(route: AgentRoute): void {
    for (const [connectionId, candidate] of this.#byConnection) {
      if (candidate.instanceId === route.instanceId) this.#byConnection.delete(connectionId)
    }
    for (const listener of this.#gone) listener(route)
  }

  resolve(target: DirectTarget): AgentRoute[] {
    return [...this.#byConnection.values()].filter((route) =>
      typeof target === 'string' ? route.agentId === target : route.capabilities.includes(target.capability),
    )
  }

  all(capability?: string): AgentRoute[] {
    return [...this.#byConnection.values()].filter(
      (route) => capability === undefined || route.capabilities.includes(capability),
    )
  }

  byConnection(connectionId: string): AgentRoute | undefined {
    return this.#byConnection.get(connectionId)
  }

  deliver(instanceId: string, frame: ServerFrame): boolean {
    const route = [...this.#byConnection.values()].find((candidate) => candidate.instanceId === instanceId)
    return route !== undefined && (this.hooks?.sendLocally(route.clientId, frame) ?? false)
  }

  onGone(listener: (route: AgentRoute) => void): () => void {
    this.#gone.add(listener)
    return () => this.#gone.delete(listener)
  }
}

describe('introductions', () => {
  let server: TestGateway | undefined
  let directory: FakeDirectory
  const clients: TestClient[] = []

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
    server = undefined
  })

  async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
    directory = new FakeDirectory()
    server = await startTestGateway(config, {
      agentDirectory: (hooks) => {
        directory.hooks = hooks
        return directory
      },
    })
    return server
  }

  async function connect(clientId: string): Promise<TestClient> {
    const client = await TestClient.connect(server?.started.wsUrl ?? '', { clientId })
    clients.push(client)
    return client
  }

  /** A connected client registered as agent `agentId` (its client id is the agent id). */
  async function agent(
    agentId: string,
    options: Parameters<FakeDirectory['register']>[2] = {},
  ): Promise<{ client: TestClient; route: AgentRoute }> {
    const client = await connect(agentId)
    return { client, route: directory.register(client, agentId, options) }
  }

  const admin = (method: string, path: string, body?: unknown) =>
    adminCall(server?.started.url ?? '', method, path, body)

  async function handshakeRows(): Promise<AuditPage['events']> {
    const { body } = await admin('GET', '/api/admin/audit?kind=handshake&limit=100')
    return AuditPage.parse(body).events.reverse()
  }

  it('asks the agent, and on ACCEPT records a grant, replies to the caller and sends connected to both', async () => {
    await start()
    const { client: planner } = await agent('planner')
    const { client: billing } = await agent('billing', { capabilities: ['billing.invoices'] })
    const answer = planner.request({ type: 'introduce', target: 'billing', reason: 'need invoices for Q3' })
    const introduction = await billing.next('introduction')
    expect(introduction).toMatchObject({
      handshakeId: expect.stringMatching(/^hs_/),
      from: { principal: 'anonymous', role: 'client', clientId: 'planner', agentId: 'planner' },
      reason: 'need invoices for Q3',
      traceId: expect.any(String),
    })
    billing.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId, accept: true })
    const reply = await answer
    expect(reply.type).toBe('reply')
    const result = IntroduceResult.parse(reply.type === 'reply' ? reply.result : undefined)
    expect(result.peer).toEqual({ principal: 'anonymous', clientId: 'billing', agentId: 'billing' })
    expect(await planner.next('connected')).toMatchObject({ grantId: result.grantId, peer: result.peer })
    expect(await billing.next('connected')).toMatchObject({
      grantId: result.grantId,
      peer: { principal: 'anonymous', clientId: 'planner', agentId: 'planner' },
    })

    const grants = GrantList.parse((await admin('GET', '/api/admin/grants')).body)
    expect(grants.grants).toEqual([
      expect.objectContaining({
        id: result.grantId,
        from: { principal: 'anonymous', clientId: 'planner', agentId: 'planner' },
        to: { principal: 'anonymous', clientId: 'billing', agentId: 'billing' },
        reason: 'need invoices for Q3',
        revokedAt: null,
      }),
    ])

    const rows = await handshakeRows()
    expect(
      rows.map((row) => [row.outcome, row.principal, row.clientId, row.target, row.correlationId]),
    ).toEqual([
      ['ok', 'anonymous', 'planner', 'billing', introduction.handshakeId],
      ['ok', 'anonymous', 'billing', 'planner', introduction.handshakeId],
    ])
    expect(rows[1]?.detail).toBe(`accepted by agent grant=${result.grantId}`)
    expect(rows[1]?.latencyMs).toEqual(expect.any(Number))
    const conversation = ConversationPage.parse(
      (await admin('GET', '/api/admin/conversations?a=planner&b=billing')).body,
    )
    expect(conversation.events.map((event) => event.correlationId)).toEqual([
      introduction.handshakeId,
      introduction.handshakeId,
    ])
  })

  it('answers introduction_rejected when the agent rejects, and records no grant', async () => {
    await start()
    const { client: planner } = await agent('planner')
    const { client: billing } = await agent('billing', { capabilities: ['billing.invoices'] })
    const answer = planner.request({ type: 'introduce', target: { capability: 'billing.invoices' } })
    const introduction = await billing.next('introduction')
    billing.send({
      type: 'introduction_answer',
      handshakeId: introduction.handshakeId,
      accept: false,
      reason: 'busy',
    })
    expect(await answer).toMatchObject({
      type: 'error',
      code: 'introduction_rejected',
      message: expect.stringContaining('busy'),
    })
    expect(GrantList.parse((await admin('GET', '/api/admin/grants?all=true')).body).grants).toEqual([])
    expect((await handshakeRows()).map((row) => row.outcome)).toEqual(['ok', 'denied'])
  })

  it('lets the gateway answer for agents in accept and reject mode, without asking them', async () => {
    await start()
    const { client: planner } = await agent('planner')
    const { client: open } = await agent('open-door', { introductions: 'accept' })
    const { client: closed } = await agent('closed-door', { introductions: 'reject' })
    const accepted = await planner.request({ type: 'introduce', target: 'open-door' })
    expect(accepted).toMatchObject({ type: 'reply', result: { peer: { agentId: 'open-door' } } })
    expect(await open.next('connected')).toMatchObject({ peer: { agentId: 'planner' } })
    expect(await planner.request({ type: 'introduce', target: 'closed-door' })).toMatchObject({
      type: 'error',
      code: 'introduction_rejected',
    })
    expect(open.framesOf('introduction')).toEqual([])
    expect(closed.framesOf('introduction')).toEqual([])
    expect(GrantList.parse((await admin('GET', '/api/admin/grants')).body).grants).toHaveLength(1)
  })

  it('answers timeout when the agent does not answer in time, and not_found to its late answer', async () => {
    await start({ agents: { introductionTimeout: 0.2 } })
    const { client: planner } = await agent('planner')
    const { client: billing } = await agent('billing')
    const answer = planner.request({ type: 'introduce', target: 'billing' })
    const introduction = await billing.next('introduction')
    expect(await answer).toMatchObject({ type: 'error', code: 'timeout' })
    billing.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId, accept: true })
    expect(await billing.next('error')).toMatchObject({ code: 'not_found' })
    expect(GrantList.parse((await admin('GET', '/api/admin/grants')).body).grants).toEqual([])
    expect((await handshakeRows()).at(-1)).toMatchObject({ outcome: 'error', detail: 'timeout' })
  })

  it('answers no_route for an unknown agent or capability, and agent_unavailable when the agent goes away', async () => {
    await start()
    const { client: planner } = await agent('planner')
    expect(await planner.request({ type: 'introduce', target: 'nobody' })).toMatchObject({ code: 'no_route' })
    expect(await planner.request({ type: 'introduce', target: { capability: 'none.here' } })).toMatchObject({
      code: 'no_route',
    })
    const { client: billing, route } = await agent('billing')
    const answer = planner.request({ type: 'introduce', target: 'billing' })
    await billing.next('introduction')
    directory.unregister(route)
    expect(await answer).toMatchObject({ code: 'agent_unavailable' })
  })

  it('refuses answers to unknown handshakes or from an instance that was not asked with not_found, and the connection survives', async () => {
    await start()
    const { client: planner } = await agent('planner')
    const { client: billing } = await agent('billing')
    const { client: intruder } = await agent('intruder')
    const answer = planner.request({ type: 'introduce', target: 'billing' })
    const introduction = await billing.next('introduction')

    intruder.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId, accept: true })
    expect(await intruder.next('error')).toMatchObject({ code: 'not_found' })
    billing.send({ type: 'introduction_answer', handshakeId: 'hs_made_up', accept: true })
    expect(await billing.next('error')).toMatchObject({ code: 'not_found' })
    // A connection that is not an agent at all gets the same answer.
    const stranger = await connect('stranger')
    stranger.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId, accept: true })
    expect(await stranger.next('error')).toMatchObject({ code: 'not_found' })
    // Malformed answers are refused by the frame schema.
    billing.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId })
    expect(
      (await billing.waitFor((frame) => frame.type === 'error' && frame.code !== 'not_found')).type,
    ).toBe('error')

    // The real answer still settles the handshake; every connection is still usable.
    billing.send({ type: 'introduction_answer', handshakeId: introduction.handshakeId, accept: true })
    expect(await answer).toMatchObject({ type: 'reply' })
    for (const client of [intruder, billing, stranger]) {
      expect(await client.request({ type: 'subscribe', channel: 'still-here' })).toMatchObject({
        type: 'reply',
      })
    }
  })

  it('checks introduce as policy action message: a deny rule refuses it, a require_introduction rule does not', async () => {
    await start()
    const { client: planner } = await agent('planner')
    const { client: billing } = await agent('billing', { introductions: 'accept' })
    await admin('POST', '/api/admin/policies', {
      id: 'no-vault',
      effect: 'deny',
      actions: ['message'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'vault' },
      priority: 5,
    })
    await admin('POST', '/api/admin/policies', {
      id: 'intro-first',
      effect: 'require_introduction',
      actions: ['message'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'principal', pattern: '*' },
    })
    directory.register(await connect('vault-2'), 'vault-2', {
      capabilities: ['vault'],
      introductions: 'accept',
    })
    expect(await planner.request({ type: 'introduce', target: 'vault-2' })).toMatchObject({
      code: 'policy_denied',
      details: { rule: 'no-vault' },
    })
    expect((await handshakeRows()).at(-1)).toMatchObject({
      outcome: 'denied',
      detail: 'policy_denied rule=no-vault',
    })

    // Without a grant the direct message needs an introduction; after one it goes through.
    expect(await planner.request({ type: 'send', to: 'billing', data: 1 })).toMatchObject({
      code: 'introduction_required',
    })
    expect(await planner.request({ type: 'introduce', target: 'billing' })).toMatchObject({ type: 'reply' })
    expect(await planner.request({ type: 'send', to: 'billing', data: 2 })).toMatchObject({ type: 'reply' })
    expect(await billing.next('connected')).toMatchObject({ peer: { agentId: 'planner' } })
  })
})

describe('introductions through the real agent directory', () => {
  it('answers no_route for an agent nobody registered and keeps the connection', async () => {
    const server = await startTestGateway()
    try {
      const client = await TestClient.connect(server.started.wsUrl)
      expect(await client.request({ type: 'introduce', target: 'billing' })).toMatchObject({
        code: 'no_route',
      })
      expect(await client.request({ type: 'subscribe', channel: 'ok' })).toMatchObject({ type: 'reply' })
      client.close()
    } finally {
      await server.dispose()
    }
  })

  it('answers for an agent registered with introductions accept or reject, without asking it', async () => {
    const server = await startTestGateway()
    const clients: TestClient[] = []
    try {
      const connect = async (clientId: string) => {
        const client = await TestClient.connect(server.started.wsUrl, { clientId })
        clients.push(client)
        return client
      }
      const open = await connect('open-agent')
      await open.ok({ type: 'agent_register', agentId: 'open-agent', introductions: 'accept' })
      const closed = await connect('closed-agent')
      await closed.ok({ type: 'agent_register', agentId: 'closed-agent', introductions: 'reject' })
      const caller = await connect('caller')
      expect(await caller.request({ type: 'introduce', target: 'open-agent' })).toMatchObject({
        type: 'reply',
        result: { peer: { agentId: 'open-agent' } },
      })
      expect(await open.next('connected')).toMatchObject({ peer: { clientId: 'caller' } })
      expect(await caller.request({ type: 'introduce', target: 'closed-agent' })).toMatchObject({
        code: 'introduction_rejected',
      })
      expect(open.frames.filter((frame) => frame.type === 'introduction')).toHaveLength(0)
      expect(closed.frames.filter((frame) => frame.type === 'introduction')).toHaveLength(0)
    } finally {
      for (const client of clients) client.close()
      await server.dispose()
    }
  })
})
