import type { NodeInfo } from '@parley/protocol'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAgentActivity } from '../agents/agent-activity.js'
import { createMemoryBusNetwork, type MemoryBus } from '../bus/memory-bus.js'
import { GatewayError } from '../errors.js'
import { createFigureSampler, type GatewayTotals } from './figure-sampler.js'
import { createTimeseriesCluster, type TimeseriesCluster } from './timeseries-cluster.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const silent = pino({ level: 'silent' })

function nodeInfo(id: string, self: boolean): NodeInfo {
  const at = new Date(T0).toISOString()
  return { id, version: 'test', startedAt: at, lastSeenAt: at, connections: 0, channels: 0, bus: 'ok', self }
}

describe('time series across nodes', () => {
  const buses: MemoryBus[] = []
  const stops: (() => void)[] = []
  let totals: Record<string, GatewayTotals>
  let deadLetters: Record<string, number>
  let listed: string[]

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
    totals = {}
    deadLetters = {}
    listed = ['node-a', 'node-b']
  })

  afterEach(async () => {
    for (const stop of stops.splice(0)) stop()
    for (const bus of buses.splice(0)) await bus.close()
    vi.useRealTimers()
  })

  function startNodes(ids: string[]): TimeseriesCluster[] {
    const network = createMemoryBusNetwork()
    return ids.map((id) => {
      const bus = network.join(id)
      buses.push(bus)
      totals[id] = { connections: 0, messagesPublished: 0, messagesDelivered: 0, invalidFrames: 0 }
      deadLetters[id] = 0
      const sampler = createFigureSampler({
        sources: {
          totals: () => totals[id] as GatewayTotals,
          activity: createAgentActivity(),
          forEachChannel: () => {},
          deadLetters: async () => deadLetters[id],
        },
        logger: silent,
      })
      const cluster = createTimeseriesCluster({
        bus,
        sampler,
        nodes: async () => listed.map((node) => nodeInfo(node, node === id)),
        logger: silent,
      })
      sampler.start()
      cluster.start()
      stops.push(() => {
        cluster.stop()
        sampler.stop()
      })
      return cluster
    })
  }

  it('adds the nodes figures up, and takes the highest dead-letter depth of the shared queue', async () => {
    const [a] = startNodes(['node-a', 'node-b'])
    totals['node-a'] = { connections: 2, messagesPublished: 10, messagesDelivered: 20, invalidFrames: 0 }
    totals['node-b'] = { connections: 5, messagesPublished: 1, messagesDelivered: 3, invalidFrames: 0 }
    deadLetters['node-a'] = 4
    deadLetters['node-b'] = 4
    // The first second takes the totals; the depth (a store read) shows from the second one.
    await vi.advanceTimersByTimeAsync(2_000)
    const answer = await a?.read({ range: '15m' })
    expect(answer?.missingNodes).toEqual([])
    expect(answer?.nodes.map((node) => [node.nodeId, node.self])).toEqual([
      ['node-a', true],
      ['node-b', false],
    ])
    expect(answer?.total.connections?.at(-1)).toBe(7)
    expect(answer?.total.published?.at(-2)).toBe(11)
    expect(answer?.total.delivered?.at(-2)).toBe(23)
    expect(answer?.total.deadLetters?.at(-1)).toBe(4)
    expect(answer?.nodes[1]?.series.connections?.at(-1)).toBe(5)
    expect(answer?.times).toHaveLength(900)
  })

  it('names a listed node that did not answer in time, and answers with the others', async () => {
    listed = ['node-a', 'node-gone']
    const [a] = startNodes(['node-a'])
    totals['node-a'] = { connections: 1, messagesPublished: 0, messagesDelivered: 0, invalidFrames: 0 }
    await vi.advanceTimersByTimeAsync(1_000)
    const reading = a?.read({ range: '24h', metrics: 'connections' })
    await vi.advanceTimersByTimeAsync(1_000)
    const answer = await reading
    expect(answer?.missingNodes).toEqual(['node-gone'])
    expect(answer?.stepMs).toBe(60_000)
    expect(Object.keys(answer?.total ?? {})).toEqual(['connections'])
  })

  it('refuses a metric the subject does not have', async () => {
    const [a] = startNodes(['node-a'])
    await expect(a?.read({ range: '15m', channel: 'news', metrics: 'latencyP50' })).rejects.toThrow(
      GatewayError,
    )
  })
})
