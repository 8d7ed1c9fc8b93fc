import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectionOptions } from '../src/bus/redis-bus.js'
import { RedisConfigSchema } from '../src/config.js'
import { startTcpProxy, type TcpProxy } from './acceptance/support/tcp-proxy.js'
import { answerRequests, connectAgent } from './support/agent-clients.js'
import { sample } from './support/prometheus-text.js'
import { SdkFixture, waitUntil } from './support/sdk-agents.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text()

describe('GET /metrics: agent stream chunks', () => {
  const fixture = new SdkFixture()
  afterEach(() => fixture.dispose())

  it('counts the chunks relayed per agent and direction as a stream flows', async () => {
    const server = await fixture.start()
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream(async (data, sink) => {
      for (let n = 1; n <= (data as number); n += 1) await sink.write(n)
    })
    const reader = fixture.caller('reader')
    await Promise.all([writer.connect(), reader.connect()])
    const labels = { agent: 'writer', direction: 'to_caller' }
    expect(
      sample(await scrape(server.started.url), 'parley_agent_stream_chunks_total', labels),
    ).toBeUndefined()
    const chunks: unknown[] = []
    for await (const chunk of reader.stream('writer', 5)) chunks.push(chunk)
    expect(chunks).toEqual([1, 2, 3, 4, 5])
    expect(sample(await scrape(server.started.url), 'parley_agent_stream_chunks_total', labels)).toBe(5)
  })
})

const redisUrl = process.env.REDIS_URL

// Needs a real Redis server: CI sets REDIS_URL; without it there is no bus to measure.
describe.skipIf(redisUrl === undefined)('GET /metrics: the Redis bus', () => {
  const prefix = `parley-test:${randomUUID()}:`
  let nodes: TestGateway[] = []
  let proxy: TcpProxy | undefined
  const clients: TestClient[] = []

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    proxy?.release()
    for (const node of nodes) await node.dispose()
    nodes = []
    await proxy?.close()
    proxy = undefined
  })

  afterAll(async () => {
    const redis = new Redis(connectionOptions(RedisConfigSchema.parse({ url: redisUrl })))
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  it('measures the lag of messages from the other node and counts a reconnect after an outage', async () => {
    const target = new URL(redisUrl ?? 'redis://127.0.0.1:6379')
    // Node 2 reaches Redis through a proxy the test can cut, as a network outage would.
    proxy = await startTcpProxy(Number(target.port || 6379), { upstreamHost: target.hostname })
    const proxied = new URL(target)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    for (const [nodeId, url] of [
      ['bus-node-1', target.toString()],
      ['bus-node-2', proxied.toString()],
    ] as const) {
      nodes.push(
        await startTestGateway({ nodeId, redis: { url, prefix }, delivery: { storeBackend: 'redis' } }),
      )
    }
    const [node1, node2] = nodes as [TestGateway, TestGateway]
    const lagCount = async (node: TestGateway) =>
      sample(await scrape(node.started.url), 'parley_bus_lag_seconds_count', { topic: 'node' }) ?? 0
    const reconnects = async (node: TestGateway) =>
      sample(await scrape(node.started.url), 'parley_bus_reconnects_total')
    expect(await reconnects(node2)).toBe(0)

    // A request from node 1 to an agent on node 2 crosses the bus (to node 2, and its answer back).
    const { client: agent } = await connectAgent(node2.started.wsUrl, 'far-agent', ['far'])
    clients.push(agent)
    answerRequests(agent, () => ({ data: 'ok' }))
    const caller = await TestClient.connect(node1.started.wsUrl)
    clients.push(caller)
    const before = await lagCount(node2)
    await waitUntil(
      async () =>
        (await caller.request({ type: 'request', target: { capability: 'far' }, data: 1 })).type === 'reply',
      10_000,
      'node 1 seeing the agent of node 2',
    )
    expect(await lagCount(node2)).toBeGreaterThan(before)
    expect(await lagCount(node1)).toBeGreaterThan(0)

    proxy.hold()
    proxy.cut()
    const degraded = async () =>
      sample(await scrape(node2.started.url), 'parley_bus_state', { state: 'degraded' }) === 1
    await waitUntil(degraded, 10_000, 'the outage')
    proxy.release()
    await waitUntil(async () => (await reconnects(node2)) === 1, 15_000, 'the reconnect counted')
    expect(await reconnects(node1)).toBe(0)
  })
})
