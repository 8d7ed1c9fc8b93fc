import type { TimeseriesCaller, TimeseriesRange, TimeseriesSubjectKind } from '@parley/protocol'
import type { Logger } from 'pino'
import type { AgentActivity, FinishedRequest } from '../agents/agent-activity.js'
import { type RawColumns, SUBJECT_FIELDS, SubjectSeries } from './figures.js'
import { LATENCY_BUCKETS, latencyBucket } from './latency-histogram.js'
import { CallerMinutes, callersOf } from './top-callers.js'

/** The running totals the sampler reads every second (the hub's, see metrics/hub-stats.ts). */
export interface GatewayTotals {
  connections: number
  messagesPublished: number
  messagesDelivered: number
  invalidFrames: number
}

export interface FigureSources {
  totals: () => GatewayTotals
  /** The agent layer's finished requests (the observer list `/metrics` uses too). */
  activity: AgentActivity
  /** Each channel of the node's table: publications fanned out here since start, live subscribers here. */
  forEachChannel: (visit: (name: string, messages: number, subscribers: number) => void) => void
  /** The dead-letter depth; undefined while the delivery store is not open. */
  deadLetters: () => Promise<number | undefined>
}

export interface FigureSamplerOptions {
  sources: FigureSources
  logger: Logger
  now?: () => number
  /** Agents with a series of their own (the most recently active); default 20. */
  maxAgents?: number
  /** Channels with a series of their own (the most recently active); default 50. */
  maxChannels?: number
}

/** One sample a second; the dead-letter depth (a store read) every fifth. */
export const SAMPLE_INTERVAL_MS = 1_000
const DEAD_LETTER_EVERY = 5

/** What one node answers about one subject: raw columns on the asked axis, and an agent's callers. */
export interface NodeFigures {
  columns: RawColumns
  tracked: boolean
  callers: TimeseriesCaller[]
}

interface AgentTrack {
  series: SubjectSeries
  callers: CallerMinutes
  requests: number
  errors: number
  buckets: number[]
}

interface ChannelTrack {
  series: SubjectSeries
}

/**
 * Samples this node's key figures every second into ring buffers (figures.ts): the gateway's, and those of a
 * bounded number of agents and channels, the most recently active (a Map's insertion order, refreshed on
 * activity, is the eviction order). Counts come from running totals the hub already keeps and from the agent
 * layer's finished-request observers: the routing path does no new bookkeeping. One timer, unref'd.
 */
export function createFigureSampler(options: FigureSamplerOptions) {
  const { sources, logger } = options
  const now = options.now ?? Date.now
  const maxAgents = options.maxAgents ?? 20
  const maxChannels = options.maxChannels ?? 50
  const gateway = new SubjectSeries('gateway')
  const agents = new Map<string, AgentTrack>()
  const channels = new Map<string, ChannelTrack>()
  let channelCounts = new Map<string, number>()
  let last: GatewayTotals | undefined
  let requests = 0
  let errors = 0
  let buckets = new Array<number>(LATENCY_BUCKETS).fill(0)
  let deadLetters = Number.NaN
  let readingDeadLetters = false
  let ticks = 0
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => void) | undefined

  function finished(request: FinishedRequest): void {
    const failed = request.outcome !== 'ok'
    requests += 1
    if (failed) errors += 1
    // Refusals before any agent took the request have no latency worth a bucket (as in /metrics).
    if (request.agent === '') return
    const bucket = latencyBucket(request.latencyMs)
    buckets[bucket] = (buckets[bucket] as number) + 1
    const track = agentTrack(request.agent)
    track.requests += 1
    if (failed) track.errors += 1
    track.buckets[bucket] = (track.buckets[bucket] as number) + 1
    track.callers.add(request.caller, failed, now())
  }

  function agentTrack(agent: string): AgentTrack {
    let track = agents.get(agent)
    if (track === undefined) {
      track = {
        series: new SubjectSeries('agent'),
        callers: new CallerMinutes(),
        requests: 0,
        errors: 0,
        buckets: new Array<number>(LATENCY_BUCKETS).fill(0),
      }
      evictOldest(agents, maxAgents - 1)
    } else {
      agents.delete(agent)
    }
    agents.set(agent, track)
    return track
  }

  function sample(): void {
    // The second that just ended: a tick at 12:00:05.000 closes the step of 12:00:04.
    const time = now() - 1
    ticks += 1
    const totals = sources.totals()
    const previous = last ?? totals
    last = { ...totals }
    gateway.record(time, [
      delta(totals.messagesPublished, previous.messagesPublished),
      delta(totals.messagesDelivered, previous.messagesDelivered),
      totals.connections,
      requests,
      errors,
      delta(totals.invalidFrames, previous.invalidFrames),
      deadLetters,
      ...buckets,
    ])
    requests = 0
    errors = 0
    buckets = buckets.fill(0)
    for (const track of agents.values()) {
      track.series.record(time, [track.requests, track.errors, ...track.buckets])
      track.requests = 0
      track.errors = 0
      track.buckets.fill(0)
    }
    sampleChannels(time)
    if (ticks % DEAD_LETTER_EVERY === 1) readDeadLetters()
  }

  function sampleChannels(time: number): void {
    const seen = new Map<string, number>()
    const recorded = new Set<string>()
    sources.forEachChannel((name, messages, subscribers) => {
      seen.set(name, messages)
      const published = delta(messages, channelCounts.get(name) ?? 0)
      let track = channels.get(name)
      if (track === undefined) {
        // A new channel takes a free place; one with publications also takes the least recently active's.
        if (published === 0 && (subscribers === 0 || channels.size >= maxChannels)) return
        evictOldest(channels, maxChannels - 1)
        track = { series: new SubjectSeries('channel') }
      }
      if (published > 0 || !channels.has(name)) {
        channels.delete(name)
        channels.set(name, track)
      }
      track.series.record(time, [published, subscribers])
      recorded.add(name)
    })
    channelCounts = seen
    // A tracked channel the table forgot (idle, no subscribers) has nothing this second.
    for (const [name, track] of channels) if (!recorded.has(name)) track.series.record(time, [0, 0])
  }

  function readDeadLetters(): void {
    if (readingDeadLetters) return
    readingDeadLetters = true
    sources
      .deadLetters()
      .then(
        (depth) => {
          deadLetters = depth ?? Number.NaN
        },
        (error: unknown) => logger.debug({ err: error }, 'reading the dead-letter depth failed'),
      )
      .finally(() => {
        readingDeadLetters = false
      })
  }

  return {
    start(): void {
      if (timer !== undefined) return
      unsubscribe = sources.activity.onRequestFinished(finished)
      last = { ...sources.totals() }
      sources.forEachChannel((name, messages) => channelCounts.set(name, messages))
      readDeadLetters()
      timer = setInterval(sample, SAMPLE_INTERVAL_MS)
      timer.unref()
    },

    stop(): void {
      clearInterval(timer)
      timer = undefined
      unsubscribe?.()
      unsubscribe = undefined
    },

    /** This node's figures of one subject at `times` (the steps of `range`). */
    figures(
      subject: { kind: TimeseriesSubjectKind; name: string | null },
      range: TimeseriesRange,
      times: readonly number[],
    ): NodeFigures {
      const empty = (): NodeFigures => ({
        columns: SUBJECT_FIELDS[subject.kind].map(() => times.map(() => null)),
        tracked: false,
        callers: [],
      })
      if (subject.kind === 'gateway')
        return { columns: gateway.columns(range, times), tracked: true, callers: [] }
      const name = subject.name ?? ''
      const track = subject.kind === 'agent' ? agents.get(name) : channels.get(name)
      if (track === undefined) return empty()
      return {
        columns: track.series.columns(range, times),
        tracked: true,
        callers: subject.kind === 'agent' ? callersOf((track as AgentTrack).callers, now()) : [],
      }
    },
  }
}

export type FigureSampler = ReturnType<typeof createFigureSampler>

/** A counter's increase; a counter that went back (a channel forgotten and seen again) counts from zero. */
function delta(current: number, previous: number): number {
  return current >= previous ? current - previous : current
}

/** Drops the least recently active entries until at most `keep` remain. */
function evictOldest<T>(map: Map<string, T>, keep: number): void {
  for (const name of map.keys()) {
    if (map.size <= keep) return
    map.delete(name)
  }
}
