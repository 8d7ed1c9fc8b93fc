import { AuditPage, GrantInfo, PolicyRuleInfo } from '@parley/protocol'
import {
  createMemoryDeliveryBackend,
  createMemoryGrantStore,
  createMemoryPolicyStore,
  createPostgresGrantStore,
  createPostgresPolicyStore,
  type DeliveryBackend,
  type GrantStore,
  type PolicyStore,
} from '@parley/stores'
import { databaseTargets, useSuiteDatabase } from '@parley/stores/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { type GatewayConfigInput, parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const DENY_EVERYTHING = {
  id: 'deny-all',
  effect: 'deny',
  actions: ['*'],
  subject: { kind: 'principal', pattern: '*' },
  target: { kind: 'channel', pattern: '*' },
  priority: 100,
} as const

const DENY_MESSAGES_TO_VAULT = {
  id: 'no-vault',
  effect: 'deny',
  actions: ['message'],
  subject: { kind: 'principal', pattern: '*' },
  target: { kind: 'principal', pattern: 'vault' },
} as const

/**
 * Three gateway nodes on one in-process bus network sharing one policy store and one grant store (as nodes
 * share Postgres): a policy or grant change made through one node's admin API applies from the next frame
 * on every node, because the admin API answers only after every node reloaded.
 */
describe('policies on several nodes', () => {
  let buses: MemoryBus[] = []
  const nodes: TestGateway[] = []
  let backend: DeliveryBackend | undefined
  let policies: PolicyStore
  let grants: GrantStore
  const clients: TestClient[] = []

  async function startCluster(config: GatewayConfigInput = {}): Promise<void> {
    const network = createMemoryBusNetwork()
    const parsed = parseConfig(config)
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parsed))
    policies = createMemoryPolicyStore({ defaultEffect: parsed.policies.default })
    grants = createMemoryGrantStore()
    buses = ['node-1', 'node-2', 'node-3'].map((id) => network.join(id))
    for (const bus of buses) {
      nodes.push(
        await startTestGateway(config, {
          bus,
          deliveryBackend: backend,
          policyStore: policies,
          grantStore: grants,
        }),
      )
    }
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const node of nodes.splice(0)) await node.dispose()
    for (const bus of buses.splice(0)) await bus.close()
    await backend?.close()
  })

  async function connect(node: number, clientId: string): Promise<TestClient> {
    const client = await TestClient.connect(nodes[node]?.started.wsUrl ?? '', { clientId })
    clients.push(client)
    return client
  }

  const admin = (node: number, method: string, path: string, body?: unknown) =>
    adminCall(nodes[node]?.started.url ?? '', method, path, body)

  async function deniedRows(node: number): Promise<AuditPage['events']> {
    const audit = nodes[node]?.audit
    if (audit === undefined) throw new Error('no audit log')
    await audit.flush()
    return (await audit.query({ limit: 100 })).events.filter((event) => event.outcome === 'denied')
  }

  it('denies the very next subscribe, publish and send on nodes 2 and 3 after a deny rule is added on node 1, and allows again after it is deleted', async () => {
    await startCluster()
    const [onTwo, onThree] = [await connect(1, 'two'), await connect(2, 'three')]
    await connect(2, 'vault')
    expect(await onTwo.request({ type: 'subscribe', channel: 'before' })).toMatchObject({ type: 'reply' })

    expect((await admin(0, 'POST', '/api/admin/policies', DENY_EVERYTHING)).status).toBe(201)
    expect((await admin(0, 'POST', '/api/admin/policies', DENY_MESSAGES_TO_VAULT)).status).toBe(201)

    for (const client of [onTwo, onThree]) {
      expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'deny-all' },
      })
      expect(await client.request({ type: 'publish', channel: 'news', data: 1 })).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'deny-all' },
      })
      expect(await client.request({ type: 'send', to: 'vault', data: 1 })).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'no-vault' },
      })
      // Other recipients are not covered by the rule.
      expect(await client.request({ type: 'send', to: 'two', data: 1 })).toMatchObject({ type: 'reply' })
    }

    expect((await admin(0, 'DELETE', '/api/admin/policies/deny-all')).status).toBe(204)
    expect((await admin(0, 'DELETE', '/api/admin/policies/no-vault')).status).toBe(204)
    for (const client of [onTwo, onThree]) {
      expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({ type: 'reply' })
      expect(await client.request({ type: 'publish', channel: 'news', data: 2 })).toMatchObject({
        type: 'reply',
      })
      expect(await client.request({ type: 'send', to: 'vault', data: 2 })).toMatchObject({ type: 'reply' })
    }
  })

  it('refuses the very next agent request and agent_send on nodes 2 and 3 after a rule is added on node 1, and allows them after it is deleted', async () => {
    await startCluster()
    const summarizer = await connect(2, 'summarizer')
    await summarizer.ok({ type: 'agent_register', agentId: 'summarizer', capabilities: ['summarize'] })
    summarizer.onFrame((frame) => {
      if (frame.type === 'request_incoming') {
        summarizer.send({ type: 'respond', correlationId: frame.correlationId, data: { ok: true } })
      }
    })
    const callers = [await connect(1, 'caller-two'), await connect(2, 'caller-three')]
    // Node 2 learns of the agent on node 3 through the bus directory.
    for (const caller of callers) {
      expect(
        await caller.request({ type: 'request', target: { capability: 'summarize' }, data: 1 }),
      ).toMatchObject({ type: 'reply', result: { data: { ok: true } } })
    }
    const rule = {
      id: 'no-summaries',
      effect: 'deny',
      actions: ['request', 'message'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'summarize' },
      priority: 10,
    }
    expect((await admin(0, 'POST', '/api/admin/policies', rule)).status).toBe(201)
    for (const caller of callers) {
      expect(
        await caller.request({ type: 'request', target: { capability: 'summarize' }, data: 2 }),
      ).toMatchObject({ type: 'error', code: 'policy_denied', details: { rule: 'no-summaries' } })
      expect(await caller.request({ type: 'agent_send', target: 'summarizer', data: 2 })).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'no-summaries' },
      })
    }
    expect((await admin(0, 'DELETE', '/api/admin/policies/no-summaries')).status).toBe(204)
    for (const caller of callers) {
      expect(await caller.request({ type: 'request', target: 'summarizer', data: 3 })).toMatchObject({
        type: 'reply',
        result: { data: { ok: true } },
      })
    }
    const denied = [...(await deniedRows(1)), ...(await deniedRows(2))]
    expect(
      denied.filter((row) => row.kind === 'request' && row.detail === 'policy_denied rule=no-summaries'),
    ).toHaveLength(2)
  })

  it('applies an edited rule and the default effect set on node 1 from the next frame on nodes 2 and 3', async () => {
    await startCluster({ policies: { default: 'deny' } })
    const [onTwo, onThree] = [await connect(1, 'two'), await connect(2, 'three')]
    for (const client of [onTwo, onThree]) {
      const refused = await client.request({ type: 'subscribe', channel: 'news' })
      expect(refused).toMatchObject({ type: 'error', code: 'policy_denied' })
      // The default effect decided: there is no rule to name.
      expect(refused).not.toHaveProperty('details')
    }
    const created = await admin(0, 'POST', '/api/admin/policies', {
      ...DENY_EVERYTHING,
      id: 'news-ok',
      effect: 'allow',
    })
    expect(PolicyRuleInfo.parse(created.body).effect).toBe('allow')
    for (const client of [onTwo, onThree]) {
      expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({ type: 'reply' })
    }
    expect((await admin(0, 'PATCH', '/api/admin/policies/news-ok', { effect: 'deny' })).status).toBe(200)
    for (const client of [onTwo, onThree]) {
      expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({
        code: 'policy_denied',
        details: { rule: 'news-ok' },
      })
    }
    await admin(0, 'DELETE', '/api/admin/policies/news-ok')
    expect((await admin(0, 'PUT', '/api/admin/policies/default', { effect: 'allow' })).status).toBe(200)
    for (const client of [onTwo, onThree]) {
      expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({ type: 'reply' })
    }
  })

  it('audits each policy denial on the node that refused it, with the rule id', async () => {
    await startCluster()
    const onTwo = await connect(1, 'two')
    await admin(0, 'POST', '/api/admin/policies', DENY_EVERYTHING)
    await admin(0, 'POST', '/api/admin/policies', DENY_MESSAGES_TO_VAULT)
    await onTwo.request({ type: 'subscribe', channel: 'news' })
    await onTwo.request({ type: 'publish', channel: 'alerts', data: 1 })
    await onTwo.request({ type: 'send', to: 'vault', data: 1 })
    const rows = await deniedRows(1)
    expect(rows.map((row) => [row.kind, row.channel, row.target, row.detail, row.clientId])).toEqual([
      ['send', null, 'vault', 'policy_denied rule=no-vault', 'two'],
      ['publish', 'alerts', null, 'policy_denied rule=deny-all', 'two'],
      ['subscribe', 'news', null, 'policy_denied rule=deny-all', 'two'],
    ])
    expect(await deniedRows(2)).toEqual([])
  })

  it('requires an introduction without a grant, allows with one, and after a revoke on node 1 denies again on every node and tells both parties', async () => {
    await startCluster({ policies: { reloadInterval: 0.1 } })
    await admin(0, 'POST', '/api/admin/policies', {
      id: 'billing-needs-intro',
      effect: 'require_introduction',
      actions: ['message'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'principal', pattern: '*' },
    })
    const planner = await connect(1, 'planner')
    const billing = await connect(2, 'billing')
    const plannerOnThree = await connect(2, 'planner-2')
    expect(await planner.request({ type: 'send', to: 'billing', data: 1 })).toMatchObject({
      code: 'introduction_required',
      details: { rule: 'billing-needs-intro' },
    })
    expect((await deniedRows(1)).map((row) => row.detail)).toEqual([
      'introduction_required rule=billing-needs-intro',
    ])

    // A grant written straight into the shared store: every node picks it up by the interval backstop.
    const grant = await grants.create(
      {
        from: { principal: 'anonymous', clientId: 'planner' },
        to: { principal: 'anonymous', clientId: 'billing' },
        reason: 'invoices',
      },
      Date.now(),
    )
    await vi.waitFor(
      async () =>
        expect(await planner.request({ type: 'send', to: 'billing', data: 2 })).toMatchObject({
          type: 'reply',
        }),
      { timeout: 5_000, interval: 50 },
    )
    // The grant links planner and billing only.
    expect(await plannerOnThree.request({ type: 'send', to: 'billing', data: 3 })).toMatchObject({
      code: 'introduction_required',
    })
    const listed = await admin(2, 'GET', '/api/admin/grants')
    expect(listed.body).toEqual({ grants: [expect.objectContaining({ id: grant.id, revokedAt: null })] })

    const revoked = await admin(0, 'DELETE', `/api/admin/grants/${grant.id}`)
    expect(revoked.status).toBe(200)
    expect(GrantInfo.parse(revoked.body)).toMatchObject({ id: grant.id, revokedAt: expect.any(String) })
    expect(await planner.request({ type: 'send', to: 'billing', data: 4 })).toMatchObject({
      code: 'introduction_required',
    })
    expect(await billing.request({ type: 'send', to: 'planner', data: 4 })).toMatchObject({
      code: 'introduction_required',
    })
    const toPlanner = await planner.next('grant_revoked')
    const toBilling = await billing.next('grant_revoked')
    expect(toPlanner).toMatchObject({ grantId: grant.id, peer: { clientId: 'billing' } })
    expect(toBilling).toMatchObject({ grantId: grant.id, peer: { clientId: 'planner' } })
    expect(plannerOnThree.framesOf('grant_revoked')).toEqual([])
    // Revoking again answers the same revoked grant.
    const again = await admin(1, 'DELETE', `/api/admin/grants/${grant.id}`)
    expect(again.body).toEqual(revoked.body)
    expect(await admin(0, 'GET', '/api/admin/grants')).toMatchObject({ body: { grants: [] } })
    expect(await admin(0, 'GET', '/api/admin/grants?all=true')).toMatchObject({
      body: { grants: [expect.objectContaining({ id: grant.id })] },
    })
    const grantRows = await admin(0, 'GET', '/api/admin/audit?kind=admin')
    expect(AuditPage.parse(grantRows.body).events.map((event) => event.detail)).toContain(
      `grant revoke ${grant.id} (200)`,
    )
  })
})

for (const target of databaseTargets()) {
  describe(`policies on two nodes sharing ${target.label}`, () => {
    const suite = useSuiteDatabase(target)
    const clients: TestClient[] = []
    const nodes: TestGateway[] = []
    let buses: MemoryBus[] = []

    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      for (const node of nodes.splice(0)) await node.dispose()
      for (const bus of buses.splice(0)) await bus.close()
    })

    it('stores rules and grants in the database and applies a change made on one node on the other', async () => {
      await suite.withSecondNode(async (second) => {
        const network = createMemoryBusNetwork()
        buses = [network.join('pg-1'), network.join('pg-2')]
        for (const [index, database] of [suite.database, second].entries()) {
          nodes.push(
            await startTestGateway(
              {},
              {
                bus: buses[index],
                policyStore: createPostgresPolicyStore(database, { defaultEffect: 'allow' }),
                grantStore: createPostgresGrantStore(database),
              },
            ),
          )
        }
        const client = await TestClient.connect(nodes[1]?.started.wsUrl ?? '', { clientId: 'pg-client' })
        clients.push(client)
        const created = await adminCall(nodes[0]?.started.url ?? '', 'POST', '/api/admin/policies', {
          ...DENY_EVERYTHING,
          description: "'; DROP TABLE policy_rules; --",
        })
        expect(created.status).toBe(201)
        expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({
          code: 'policy_denied',
          details: { rule: 'deny-all' },
        })
        const listed = await adminCall(nodes[1]?.started.url ?? '', 'GET', '/api/admin/policies')
        expect(listed.body).toMatchObject({
          rules: [{ id: 'deny-all', description: "'; DROP TABLE policy_rules; --" }],
        })
        await adminCall(nodes[1]?.started.url ?? '', 'DELETE', '/api/admin/policies/deny-all')
        expect(await client.request({ type: 'subscribe', channel: 'news' })).toMatchObject({ type: 'reply' })
      })
    })
  })
}
