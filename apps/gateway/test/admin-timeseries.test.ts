import { AuditVerification, HttpError, Timeseries } from '@parley/protocol'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus, type MemoryBusNetwork } from '../src/bus/memory-bus.js'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

/** The admin routes of the charts and of the audit badge, on a real gateway: schemas, refusals, admin only. */
describe('time series and audit verification admin routes', () => {
  let node: TestGateway

  beforeAll(async () => {
    node = await startTestGateway()
  })

  afterAll(async () => {
    await node.dispose()
  })

  it('answers the gateway figures of the last 15 minutes, one point a second, this node listed alone', async () => {
    const { status, body } = await adminCall(node.started.url, 'GET', '/api/admin/timeseries')
    expect(status).toBe(200)
    const answer = Timeseries.parse(body)
    expect(answer).toMatchObject({ range: '15m', stepMs: 1_000, subject: { kind: 'gateway', name: null } })
    expect(answer.times).toHaveLength(900)
    expect(answer.nodes).toHaveLength(1)
    expect(answer.nodes[0]?.self).toBe(true)
    expect(Object.keys(answer.total)).toContain('latencyP99')
  })

  it('answers only the metrics asked for, of one channel, a minute a point over 24 hours', async () => {
    const { status, body } = await adminCall(
      node.started.url,
      'GET',
      '/api/admin/timeseries?range=24h&channel=news&metrics=subscribers',
    )
    expect(status).toBe(200)
    const answer = Timeseries.parse(body)
    expect(answer.times).toHaveLength(1_440)
    expect(Object.keys(answer.total)).toEqual(['subscribers'])
    expect(answer.subject).toEqual({ kind: 'channel', name: 'news' })
    // Nothing was published on it: no node keeps its series.
    expect(answer.tracked).toBe(false)
  })

  it.each([
    ['an unknown range', '?range=1h', /range/],
    ['an unknown metric', '?metrics=bogus', /metrics/],
    ['a metric the subject lacks', '?channel=news&metrics=latencyP50', /channel has no latencyP50/],
    ['an agent and a channel at once', '?agent=a&channel=b', /not both/],
  ])('refuses %s with bad_request naming the field', async (_name, query, message) => {
    const { status, body } = await adminCall(node.started.url, 'GET', `/api/admin/timeseries${query}`)
    expect(status).toBe(400)
    const error = HttpError.parse(body).error
    expect(error.code).toBe('bad_request')
    expect(error.message).toMatch(message)
  })

  it('needs an admin credential', async () => {
    for (const path of ['/api/admin/timeseries', '/api/admin/audit/verification']) {
      const response = await fetch(`${node.started.url}${path}`)
      expect(response.status).toBe(401)
    }
  })

  it('answers the audit verification state of the chained memory audit log', async () => {
    const { status, body } = await adminCall(node.started.url, 'GET', '/api/admin/audit/verification')
    expect(status).toBe(200)
    expect(AuditVerification.parse(body).state).toBe('verified')
  })
})

/** Two gateways on one bus: the node asked merges the other node's figures into the cluster's. */
describe('time series across two nodes', () => {
  let network: MemoryBusNetwork
  let buses: MemoryBus[]
  let nodes: TestGateway[]

  beforeAll(async () => {
    network = createMemoryBusNetwork()
    buses = ['node-1', 'node-2'].map((id) => network.join(id))
    nodes = []
    for (const bus of buses) nodes.push(await startTestGateway({}, { bus }))
  })

  afterAll(async () => {
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
  })

  it("counts a publication on node 1 in node 2's answer: per node and in the total", async () => {
    const [first, second] = nodes as [TestGateway, TestGateway]
    const publisher = await TestClient.connect(first.started.wsUrl)
    try {
      await publisher.ok({ type: 'publish', channel: 'merged', data: { n: 1 } })
      // The figures of a second show once that second is over: wait for it, not for a fixed time.
      const answer = await vi.waitFor(
        async () => {
          const { body } = await adminCall(
            second.started.url,
            'GET',
            '/api/admin/timeseries?metrics=published',
          )
          const parsed = Timeseries.parse(body)
          const published = (values: (number | null)[] | undefined) =>
            (values ?? []).reduce<number>((sum, value) => sum + (value ?? 0), 0)
          expect(published(parsed.total.published)).toBeGreaterThanOrEqual(1)
          return { parsed, published }
        },
        { timeout: 10_000, interval: 200 },
      )
      const { parsed, published } = answer
      expect(parsed.missingNodes).toEqual([])
      expect(parsed.nodes.map((node) => [node.nodeId, node.self])).toEqual([
        ['node-2', true],
        ['node-1', false],
      ])
      const byNode = Object.fromEntries(
        parsed.nodes.map((node) => [node.nodeId, published(node.series.published)]),
      )
      expect(byNode).toEqual({ 'node-1': 1, 'node-2': 0 })
    } finally {
      publisher.close()
    }
  })
})
