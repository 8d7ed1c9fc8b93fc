import { randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { AgentClient } from '@parley/client'
import { McpToolList } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../../src/bus/memory-bus.js'
import { adminCall } from '../support/admin-api.js'
import { FAST_RECONNECT } from '../support/sdk-agents.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'
import { mcpClient } from './mcp-clients.js'

const SHARED = 'shared-gateway-token-0123'
const CALLS = 1_000
const CONCURRENCY = 8

/** A round-robin TCP balancer: each new connection goes to the next upstream port. No stickiness of any kind. */
async function roundRobinProxy(
  ports: number[],
): Promise<{ port: number; connections: number[]; close(): Promise<void> }> {
  const connections = ports.map(() => 0)
  const sockets = new Set<Socket>()
  let next = 0
  const server: Server = createServer((client) => {
    const index = next % ports.length
    next += 1
    connections[index] = (connections[index] ?? 0) + 1
    const upstream = tcpConnect(ports[index] as number, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
  return {
    port: address.port,
    connections,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const redisUrl = process.env.REDIS_URL

type Closers = Array<() => Promise<unknown> | unknown>

/** Two nodes on the in-process bus network. */
async function memoryBusNodes(closers: Closers): Promise<TestGateway[]> {
  const network = createMemoryBusNetwork()
  const buses: MemoryBus[] = ['node-1', 'node-2'].map((id) => network.join(id))
  const nodes: TestGateway[] = []
  for (const bus of buses) {
    const node = await startTestGateway({ authToken: SHARED }, { bus })
    nodes.push(node)
    closers.push(async () => {
      await node.dispose()
      await bus.close()
    })
  }
  return nodes
}

/** Two nodes on a real Redis (REDIS_URL), a prefix of their own, the store backend on it too. */
async function redisBusNodes(closers: Closers): Promise<TestGateway[]> {
  const prefix = `parley-test-mcp:${randomUUID()}:`
  const nodes: TestGateway[] = []
  for (const nodeId of ['node-1', 'node-2']) {
    const node = await startTestGateway({
      authToken: SHARED,
      nodeId,
      redis: { url: redisUrl, prefix },
      databaseUrl: 'memory://',
      delivery: { storeBackend: 'redis' },
    })
    nodes.push(node)
    closers.push(() => node.dispose())
  }
  return nodes
}

const BUSES = [
  { name: 'the in-process bus', start: memoryBusNodes, skip: false },
  // Needs a real Redis server: CI sets REDIS_URL.
  { name: 'Redis', start: redisBusNodes, skip: redisUrl === undefined },
]

describe.each(BUSES)('/mcp on two nodes ($name) behind a round-robin TCP balancer', ({ start, skip }) => {
  const closers: Closers = []

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  it.skipIf(skip)(
    'answers 1,000 tool calls from one SDK client with zero failures, both nodes serving calls, no session',
    async () => {
      const nodes = await start(closers)
      // One instance of the agent on each node: a call that lands on either node may be routed to either.
      for (const node of nodes) {
        const agent = new AgentClient(node.started.wsUrl, {
          agentId: 'calc',
          authToken: SHARED,
          capabilities: ['add'],
          reconnect: FAST_RECONNECT,
        })
        agent.handle((data) => {
          const { a, b } = data as { a: number; b: number }
          return { sum: a + b }
        })
        await agent.connect()
        closers.push(() => agent.close())
      }
      const proxy = await roundRobinProxy(nodes.map((node) => node.started.port))
      closers.push(() => proxy.close())

      const client = await mcpClient(`http://127.0.0.1:${proxy.port}/mcp`, SHARED)
      closers.unshift(() => client.close())
      const failures: unknown[] = []
      let nextCall = 0
      const worker = async () => {
        while (nextCall < CALLS) {
          const n = nextCall
          nextCall += 1
          try {
            const result = await client.callTool({ name: 'calc__add', arguments: { a: n, b: 1 } })
            if ((result.structuredContent as { sum?: number } | undefined)?.sum !== n + 1)
              failures.push(result)
          } catch (error) {
            failures.push(error)
          }
        }
      }
      await Promise.all(Array.from({ length: CONCURRENCY }, worker))
      expect(failures).toEqual([])

      // Each node counts the calls it answered: together all of them, and each some.
      const served = await Promise.all(
        nodes.map(async (node) => {
          const list = McpToolList.parse(
            (await adminCall(node.started.url, 'GET', '/api/admin/mcp/tools')).body,
          )
          return list.tools.find((tool) => tool.name === 'calc__add')?.calls ?? 0
        }),
      )
      expect(served[0] as number).toBeGreaterThan(0)
      expect(served[1] as number).toBeGreaterThan(0)
      expect((served[0] as number) + (served[1] as number)).toBe(CALLS)
      expect(proxy.connections.every((count) => count > 0)).toBe(true)
    },
    120_000,
  )
})
