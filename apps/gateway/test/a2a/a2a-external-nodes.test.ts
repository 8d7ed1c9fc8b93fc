import { randomBytes } from 'node:crypto'
import { AgentCaller } from '@parley/client'
import { A2aAgentList, AgentList } from '@parley/protocol'
import {
  createMemoryDeliveryBackend,
  createMemoryUpstreamStore,
  createPostgresUpstreamStore,
  type DeliveryBackend,
  schema,
  type UpstreamStore,
} from '@parley/stores'
import { databaseTargets, useSuiteDatabase } from '@parley/stores/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../../src/bus/memory-bus.js'
import { parseConfig } from '../../src/config.js'
import { deliveryBackendOptions } from '../../src/delivery/open-delivery-backend.js'
import { type ExternalAgent, startExternalAgent } from '../support/a2a-external-agent.js'
import { adminCall } from '../support/admin-api.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'

const TOKEN = 'node-shared-upstream-token-7f3a'
const SECRET_KEY = randomBytes(32).toString('hex')

async function a2aAgents(node: TestGateway) {
  return A2aAgentList.parse((await adminCall(node.started.url, 'GET', '/api/admin/a2a/agents')).body).agents
}

describe('external A2A agents across nodes and restarts', () => {
  const nodes: TestGateway[] = []
  const buses: MemoryBus[] = []
  const callers: AgentCaller[] = []
  const externals: ExternalAgent[] = []
  let backend: DeliveryBackend | undefined

  afterEach(async () => {
    await Promise.all(callers.splice(0).map((caller) => caller.close()))
    for (const node of nodes.splice(0)) await node.dispose()
    for (const bus of buses.splice(0)) await bus.close()
    await Promise.all(externals.splice(0).map((agent) => agent.kill()))
    await backend?.close()
    backend = undefined
  })

  async function caller(node: TestGateway, clientId: string): Promise<AgentCaller> {
    const created = new AgentCaller(node.started.wsUrl, { clientId })
    callers.push(created)
    await created.connect()
    return created
  }

  it('an agent added on one node is hosted and reachable on the other, and removing it there removes it everywhere', async () => {
    const network = createMemoryBusNetwork()
    const config = { upstreams: { secretKey: SECRET_KEY, reloadInterval: 60 } }
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig(config)))
    const upstreams = createMemoryUpstreamStore()
    for (const id of ['node-1', 'node-2']) {
      const bus = network.join(id)
      buses.push(bus)
      nodes.push(await startTestGateway(config, { bus, deliveryBackend: backend, upstreamStore: upstreams }))
    }
    const [one, two] = nodes as [TestGateway, TestGateway]
    const agent = await startExternalAgent({ name: 'shared' })
    externals.push(agent)

    const added = await adminCall(one.started.url, 'POST', '/api/admin/a2a/agents', {
      agentId: 'shared',
      urls: [agent.url],
      credentials: { type: 'bearer', token: TOKEN },
    })
    expect(added.status).toBe(201)
    // The bus told node 2 at once (the 60 s reload interval would be far too late).
    await expect
      .poll(async () => (await a2aAgents(two)).map((listed) => listed.instances[0]?.state), {
        timeout: 10_000,
      })
      .toEqual(['up'])
    const onTwo = await caller(two, 'caller-on-two')
    expect(await onTwo.request('shared', 'from two')).toEqual({ echoed: 'from two', by: 'shared' })
    // Each node fetched the card with the credentials it opened with the shared key.
    const cardFetches = agent.requests.filter((request) => request.path === '/.well-known/agent-card.json')
    expect(cardFetches.length).toBeGreaterThanOrEqual(2)
    expect(cardFetches.every((request) => request.headers.authorization === `Bearer ${TOKEN}`)).toBe(true)
    // One instance per node in the cluster-wide registry.
    const registry = AgentList.parse(
      (await adminCall(two.started.url, 'GET', '/api/admin/agents')).body,
    ).agents
    expect(registry.find((listed) => listed.agentId === 'shared')?.instances).toHaveLength(2)

    expect((await adminCall(two.started.url, 'DELETE', '/api/admin/a2a/agents/shared')).status).toBe(204)
    await expect.poll(async () => (await a2aAgents(one)).length, { timeout: 10_000 }).toBe(0)
    await expect
      .poll(
        async () =>
          AgentList.parse((await adminCall(one.started.url, 'GET', '/api/admin/agents')).body).agents.filter(
            (listed) => listed.agentId === 'shared',
          ).length,
        { timeout: 10_000 },
      )
      .toBe(0)
  })

  for (const target of databaseTargets()) {
    describe(`on ${target.label}`, () => {
      const suite = useSuiteDatabase(target)

      async function node(store: UpstreamStore, secretKey: string): Promise<TestGateway> {
        const started = await startTestGateway({ upstreams: { secretKey } }, { upstreamStore: store })
        nodes.push(started)
        return started
      }

      it('keeps the agent and its credentials (only sealed) across a restart; another key cannot open them', async () => {
        const agent = await startExternalAgent({ name: 'durable' })
        externals.push(agent)
        const store = createPostgresUpstreamStore(suite.database)
        const first = await node(store, SECRET_KEY)
        const added = await adminCall(first.started.url, 'POST', '/api/admin/a2a/agents', {
          agentId: 'durable',
          urls: [agent.url],
          credentials: { type: 'header', name: 'X-Api-Key', value: TOKEN },
        })
        expect(added.status).toBe(201)
        await first.dispose()
        nodes.splice(nodes.indexOf(first), 1)

        const rows = await suite.database.db.select().from(schema.upstreams)
        expect(rows).toHaveLength(1)
        expect(rows[0]?.credentialsKind).toBe('header')
        expect(rows[0]?.credentials).toMatch(/^v1\./)
        expect(JSON.stringify(rows)).not.toContain(TOKEN)

        const second = await node(createPostgresUpstreamStore(suite.database), SECRET_KEY)
        await expect
          .poll(async () => (await a2aAgents(second))[0]?.instances[0]?.state, { timeout: 10_000 })
          .toBe('up')
        const user = await caller(second, 'after-restart')
        agent.requests.length = 0
        expect(await user.request('durable', 'still here')).toEqual({ echoed: 'still here', by: 'durable' })
        expect(agent.requests.at(-1)?.headers['x-api-key']).toBe(TOKEN)
        await second.dispose()
        nodes.splice(nodes.indexOf(second), 1)

        const wrongKey = await node(
          createPostgresUpstreamStore(suite.database),
          randomBytes(32).toString('hex'),
        )
        await expect
          .poll(async () => (await a2aAgents(wrongKey))[0]?.instances[0], { timeout: 10_000 })
          .toMatchObject({ state: 'down', lastError: expect.stringContaining('do not open') })
        expect(agent.requests.every((request) => request.headers['x-api-key'] === TOKEN)).toBe(true)
      })
    })
  }
})
