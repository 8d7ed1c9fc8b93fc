import { AgentCaller, type McpCallToolResult } from '@parley/client'
import { McpServerInfo } from '@parley/protocol'
import {
  createMemoryDeliveryBackend,
  createMemoryUpstreamStore,
  type DeliveryBackend,
  type UpstreamStore,
} from '@parley/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createMemoryBusNetwork, type MemoryBus } from '../../src/bus/memory-bus.js'
import { parseConfig } from '../../src/config.js'
import { deliveryBackendOptions } from '../../src/delivery/open-delivery-backend.js'
import { adminCall } from '../support/admin-api.js'
import { FAST_RECONNECT } from '../support/sdk-agents.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'
import { startTestUpstream, type TestUpstream } from './mcp-upstream-server.js'

const POLL = { timeout: 10_000, interval: 20 }
const TOKEN = 'cluster-upstream-token-91c4'
/** Every node must seal and open credentials with the same key. */
const CONFIG = {
  mcpUpstreams: { refreshInterval: 60, retryInitial: 0.05, retryMax: 0.2 },
  upstreams: { secretKey: 'ab'.repeat(32) },
}

/** Two gateways sharing a bus and an upstream store: each connects to the registered server on its own. */
describe('upstream MCP servers across nodes', () => {
  let buses: MemoryBus[]
  let nodes: TestGateway[]
  let store: UpstreamStore
  let backend: DeliveryBackend
  let upstream: TestUpstream
  const callers: AgentCaller[] = []

  beforeEach(async () => {
    const network = createMemoryBusNetwork()
    store = createMemoryUpstreamStore()
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    buses = ['node-1', 'node-2'].map((id) => network.join(id))
    nodes = []
    for (const bus of buses) {
      nodes.push(await startTestGateway(CONFIG, { bus, deliveryBackend: backend, upstreamStore: store }))
    }
    upstream = await startTestUpstream({
      tools: (server) => {
        server.registerTool('double', { inputSchema: { x: z.number() } }, async ({ x }) => ({
          content: [{ type: 'text', text: String(2 * x) }],
        }))
      },
    })
  })

  afterEach(async () => {
    await Promise.all(callers.splice(0).map((caller) => caller.close()))
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
    await backend.close()
    await upstream.stop()
  })

  async function callerOn(node: TestGateway): Promise<AgentCaller> {
    const caller = new AgentCaller(node.started.wsUrl, { reconnect: FAST_RECONNECT })
    callers.push(caller)
    await caller.connect()
    return caller
  }

  async function toolNodes(caller: AgentCaller): Promise<string[]> {
    const agent = (await caller.agents()).find((listed) => listed.agentId === 'mcp.calc')
    return (agent?.instances ?? []).map((instance) => instance.node).sort()
  }

  it('a server registered on one node is hosted by every node, its credentials sealed in the store; a tool stays callable through a node when the other stops', async () => {
    const [first, second] = nodes as [TestGateway, TestGateway]
    const added = await adminCall(first.started.url, 'POST', '/api/admin/mcp/servers', {
      name: 'calc',
      url: upstream.url,
      credentials: { type: 'bearer', token: TOKEN },
    })
    expect(added.status).toBe(201)
    expect(McpServerInfo.parse(added.body).health.state).toBe('up')

    // At rest: sealed, never in clear.
    const [stored] = await store.list('mcp')
    expect(stored).toMatchObject({ id: 'calc', urls: [upstream.url], credentialsKind: 'bearer' })
    expect(stored?.credentials).toEqual(expect.any(String))
    expect(stored?.credentials).not.toContain(TOKEN)
    expect(JSON.stringify(stored)).not.toContain(TOKEN)

    const caller = await callerOn(second)
    await expect.poll(() => toolNodes(caller), POLL).toEqual(['node-1', 'node-2'])
    const onSecond = await adminCall(second.started.url, 'GET', '/api/admin/mcp/servers')
    expect(onSecond.body).toMatchObject({ servers: [{ name: 'calc', health: { state: 'up' } }] })
    for (const headers of upstream.seenHeaders) expect(headers.get('authorization')).toBe(`Bearer ${TOKEN}`)

    await first.dispose()
    await expect.poll(() => toolNodes(caller), POLL).toEqual(['node-2'])
    const result = await caller.callTool('calc', 'double', { x: 21 })
    expect(result).toEqual<McpCallToolResult>({ content: [{ type: 'text', text: '42' }] })

    expect((await adminCall(second.started.url, 'DELETE', '/api/admin/mcp/servers/calc')).status).toBe(204)
    expect(await toolNodes(caller)).toEqual([])
  })
})
