import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAgentActivity } from '../agents/agent-activity.js'
import { createFigureSampler, type GatewayTotals } from './figure-sampler.js'
import { metricsOf, timeAxis } from './figures.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')

describe('figure sampler', () => {
  let totals: GatewayTotals
  let channels: Map<string, { messages: number; subscribers: number }>
  let deadLetters: number
  let activity: ReturnType<typeof createAgentActivity>
  let sampler: ReturnType<typeof createFigureSampler>

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
    totals = { connections: 0, messagesPublished: 0, messagesDelivered: 0, invalidFrames: 0 }
    channels = new Map()
    deadLetters = 0
    activity = createAgentActivity()
    sampler = createFigureSampler({
      sources: {
        totals: () => totals,
        activity,
        forEachChannel: (visit) => {
          for (const [name, channel] of channels) visit(name, channel.messages, channel.subscribers)
        },
        deadLetters: async () => deadLetters,
      },
      logger: pino({ level: 'silent' }),
      maxAgents: 2,
      maxChannels: 2,
    })
    sampler.start()
  })

  afterEach(() => {
    sampler.stop()
    vi.useRealTimers()
  })

  /** The gateway's figures of the last `points` seconds, as the admin API computes them. */
  function lastSeconds(
    points: number,
    subject: { kind: 'gateway' | 'agent' | 'channel'; name: string | null },
  ) {
    const times = timeAxis('15m', Date.now())
    const figures = sampler.figures(subject, '15m', times)
    const series = metricsOf(subject.kind, figures.columns, 1_000)
    return {
      figures,
      series: Object.fromEntries(
        Object.entries(series).map(([metric, values]) => [metric, (values ?? []).slice(-points)]),
      ),
    }
  }

  const finish = (agent: string, caller: string, outcome: string, latencyMs: number) =>
    activity.requestFinished({ agent, caller, capability: '', outcome, latencyMs })

  it('samples publications, deliveries and connections once a second from the hub totals', async () => {
    totals = { ...totals, connections: 3, messagesPublished: 5, messagesDelivered: 15 }
    await vi.advanceTimersByTimeAsync(1_000)
    totals = { ...totals, connections: 4, messagesPublished: 7, messagesDelivered: 21 }
    await vi.advanceTimersByTimeAsync(1_000)
    await vi.advanceTimersByTimeAsync(1_000)
    const { series } = lastSeconds(3, { kind: 'gateway', name: null })
    expect(series.published).toEqual([5, 2, 0])
    expect(series.delivered).toEqual([15, 6, 0])
    expect(series.connections).toEqual([3, 4, 4])
  })

  it('counts agent requests, errors and latency percentiles per second, in total and per agent', async () => {
    for (let index = 0; index < 100; index += 1) finish('agent-a', 'caller-1', 'ok', index < 90 ? 3 : 400)
    finish('agent-a', '', 'timeout', 30_000)
    finish('', '', 'no_route', 0)
    await vi.advanceTimersByTimeAsync(2_000)
    const gateway = lastSeconds(2, { kind: 'gateway', name: null }).series
    expect(gateway.agentRequests).toEqual([102, 0])
    expect(gateway.agentErrors).toEqual([2, 0])
    // 90 of 101 timed requests fell in the 2–5 ms bucket: the median is inside it, p95 and p99 beyond.
    const [p50] = gateway.latencyP50 as number[]
    expect(p50).toBeGreaterThan(2)
    expect(p50).toBeLessThanOrEqual(5)
    expect((gateway.latencyP95 as number[])[0]).toBeGreaterThan(250)
    const [p99] = gateway.latencyP99 as number[]
    expect(p99).toBeGreaterThan(250)
    expect(p99).toBeLessThanOrEqual(500)
    // A step without requests has no latency at all.
    expect(gateway.latencyP50?.[1]).toBeNull()
    const agent = lastSeconds(2, { kind: 'agent', name: 'agent-a' })
    expect(agent.series.agentRequests).toEqual([101, 0])
    expect(agent.series.agentErrors).toEqual([1, 0])
    expect(agent.figures.callers).toEqual([
      { caller: 'caller-1', requests: 100, errors: 0 },
      { caller: null, requests: 1, errors: 1 },
    ])
  })

  it('adds the seconds of a minute up into its minute sample', async () => {
    // Start at a minute boundary so the 60 samples fall in one minute.
    await vi.advanceTimersByTimeAsync(60_000 - (Date.now() % 60_000))
    for (let second = 0; second < 60; second += 1) {
      totals = { ...totals, messagesPublished: totals.messagesPublished + 6, connections: second }
      await vi.advanceTimersByTimeAsync(1_000)
    }
    const times = timeAxis('24h', Date.now())
    const series = metricsOf(
      'gateway',
      sampler.figures({ kind: 'gateway', name: null }, '24h', times).columns,
      60_000,
    )
    // 360 publications over the minute: 6 a second; the gauge keeps the minute's last second.
    expect(series.published?.at(-1)).toBe(6)
    expect(series.connections?.at(-1)).toBe(59)
  })

  it('forgets the 1-second samples older than 15 minutes', async () => {
    totals = { ...totals, messagesPublished: 10 }
    await vi.advanceTimersByTimeAsync(1_000)
    // The tick closed the second that just ended.
    const first = Math.floor((Date.now() - 1) / 1_000) * 1_000
    const read = () => sampler.figures({ kind: 'gateway', name: null }, '15m', [first]).columns[0]?.[0]
    expect(read()).toBe(10)
    await vi.advanceTimersByTimeAsync(15 * 60_000)
    expect(read()).toBeNull()
  })

  it('keeps a series for the most recently active agents only', async () => {
    finish('agent-a', '', 'ok', 1)
    finish('agent-b', '', 'ok', 1)
    finish('agent-a', '', 'ok', 1)
    finish('agent-c', '', 'ok', 1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lastSeconds(1, { kind: 'agent', name: 'agent-b' }).figures.tracked).toBe(false)
    expect(lastSeconds(1, { kind: 'agent', name: 'agent-a' }).series.agentRequests).toEqual([2])
    expect(lastSeconds(1, { kind: 'agent', name: 'agent-c' }).series.agentRequests).toEqual([1])
  })

  it('samples each channel publications and subscribers, and the dead-letter depth', async () => {
    channels.set('news', { messages: 0, subscribers: 2 })
    deadLetters = 7
    await vi.advanceTimersByTimeAsync(5_000)
    channels.set('news', { messages: 4, subscribers: 3 })
    await vi.advanceTimersByTimeAsync(1_000)
    const news = lastSeconds(2, { kind: 'channel', name: 'news' }).series
    expect(news.published).toEqual([0, 4])
    expect(news.subscribers).toEqual([2, 3])
    expect(lastSeconds(1, { kind: 'gateway', name: null }).series.deadLetters).toEqual([7])
  })
})
