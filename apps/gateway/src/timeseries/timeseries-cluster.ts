import { randomUUID } from 'node:crypto'
import {
  type NodeInfo,
  SUBJECT_METRICS,
  type Timeseries,
  type TimeseriesQuery,
  TimeseriesRange,
  TimeseriesSubjectKind,
  timeseriesMetricsOf,
} from '@parley/protocol'
import type { Logger } from 'pino'
import { z } from 'zod'
import { readBusPayload } from '../bus/bus-payload.js'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import { GatewayError } from '../errors.js'
import type { FigureSampler, NodeFigures } from './figure-sampler.js'
import { mergeColumns, metricsOf, RANGES, timeAxis } from './figures.js'
import { topCallers } from './top-callers.js'

/** How long the asking node waits for the other nodes' figures. */
export const FIGURES_ANSWER_TIMEOUT_MS = 1_000

const Subject = z.object({ kind: TimeseriesSubjectKind, name: z.string().max(200).nullable() })
const FiguresQuestion = z.object({
  kind: z.literal('figures.query'),
  requestId: z.string().max(64),
  replyTo: z.string().max(200),
  subject: Subject,
  range: TimeseriesRange,
  /** The last point of the asking node's axis: every node answers on the same steps. */
  end: z.number().int(),
})
const FiguresAnswer = z.object({
  kind: z.literal('figures.answer'),
  requestId: z.string().max(64),
  nodeId: z.string().max(200),
  columns: z.array(z.array(z.number().nullable()).max(RANGES['24h'].points)).max(64),
  tracked: z.boolean(),
  callers: z
    .array(z.object({ caller: z.string().nullable(), requests: z.number().int(), errors: z.number().int() }))
    .max(100),
})
type FiguresAnswer = z.infer<typeof FiguresAnswer>

export interface TimeseriesClusterOptions {
  bus: ClusterBus
  sampler: FigureSampler
  /** The cluster's nodes (the bus registry): whose answers to wait for. */
  nodes: () => Promise<NodeInfo[]>
  logger: Logger
  now?: () => number
  answerTimeoutMs?: number
}

/**
 * The time series of the whole cluster: the node asked by the admin API sends one question on the bus's
 * `figures` topic, every node answers with its raw columns on the asker's `figures:<id>` topic, and the asker
 * merges them (figures.ts) with its own. Nothing travels between nodes unless an operator looks.
 */
export function createTimeseriesCluster(options: TimeseriesClusterOptions) {
  const { bus, sampler, logger } = options
  const now = options.now ?? Date.now
  const timeoutMs = options.answerTimeoutMs ?? FIGURES_ANSWER_TIMEOUT_MS
  const waiting = new Map<string, (answer: FiguresAnswer) => void>()
  const unsubscribes: (() => void)[] = []

  function axisEndingAt(range: TimeseriesRange, end: number): number[] {
    const { stepMs, points } = RANGES[range]
    return Array.from({ length: points }, (_, index) => end - (points - 1 - index) * stepMs)
  }

  function question(payload: string): void {
    const parsed = FiguresQuestion.safeParse(readBusPayload(payload))
    if (!parsed.success) return
    const { requestId, replyTo, subject, range, end } = parsed.data
    const figures = sampler.figures(subject, range, axisEndingAt(range, end))
    bus.publish(
      BUS_TOPICS.figuresFor(replyTo),
      JSON.stringify({ kind: 'figures.answer', requestId, nodeId: bus.nodeId, ...figures }),
    )
  }

  function answer(payload: string): void {
    const parsed = FiguresAnswer.safeParse(readBusPayload(payload))
    if (parsed.success) waiting.get(parsed.data.requestId)?.(parsed.data)
    else logger.debug('ignored an unreadable time-series answer')
  }

  /** The other nodes' figures: those listed in the registry, waited for until all answered or time ran out. */
  async function others(
    subject: z.infer<typeof Subject>,
    range: TimeseriesRange,
    end: number,
  ): Promise<{ answers: FiguresAnswer[]; missing: string[] }> {
    if (bus.state() !== 'ok') return { answers: [], missing: [] }
    const expected = new Set((await options.nodes()).filter((node) => !node.self).map((node) => node.id))
    if (expected.size === 0) return { answers: [], missing: [] }
    const requestId = randomUUID()
    const answers = new Map<string, FiguresAnswer>()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      timer.unref()
      waiting.set(requestId, (received) => {
        answers.set(received.nodeId, received)
        if ([...expected].every((id) => answers.has(id))) {
          clearTimeout(timer)
          resolve()
        }
      })
      bus.publish(
        BUS_TOPICS.figures,
        JSON.stringify({ kind: 'figures.query', requestId, replyTo: bus.nodeId, subject, range, end }),
      )
    })
    waiting.delete(requestId)
    return {
      answers: [...answers.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId)),
      missing: [...expected].filter((id) => !answers.has(id)).sort(),
    }
  }

  return {
    start(): void {
      if (unsubscribes.length > 0 || bus.state() === 'local') return
      unsubscribes.push(bus.subscribe(BUS_TOPICS.figures, question))
      unsubscribes.push(bus.subscribe(BUS_TOPICS.figuresFor(bus.nodeId), answer))
    },

    stop(): void {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
    },

    /** `GET /api/admin/timeseries`: the asked figures of every node and of the cluster. */
    async read(query: TimeseriesQuery): Promise<Timeseries> {
      const subject =
        query.agent !== undefined
          ? { kind: 'agent' as const, name: query.agent }
          : query.channel !== undefined
            ? { kind: 'channel' as const, name: query.channel }
            : { kind: 'gateway' as const, name: null }
      const metrics = timeseriesMetricsOf(query) ?? SUBJECT_METRICS[subject.kind]
      const unknown = metrics.filter((metric) => !SUBJECT_METRICS[subject.kind].includes(metric))
      if (unknown.length > 0) {
        throw new GatewayError(
          'bad_request',
          `invalid time series query: metrics: the ${subject.kind} has no ${unknown.join(', ')}`,
        )
      }
      const { stepMs } = RANGES[query.range]
      const times = timeAxis(query.range, now())
      const own: NodeFigures & { nodeId: string } = {
        nodeId: bus.nodeId,
        ...sampler.figures(subject, query.range, times),
      }
      const { answers, missing } = await others(subject, query.range, times.at(-1) as number)
      const all = [own, ...answers]
      return {
        range: query.range,
        stepMs,
        times,
        subject,
        total: metricsOf(
          subject.kind,
          mergeColumns(
            subject.kind,
            all.map((node) => node.columns),
          ),
          stepMs,
          metrics,
        ),
        nodes: all.map((node) => ({
          nodeId: node.nodeId,
          self: node === own,
          series: metricsOf(subject.kind, node.columns, stepMs, metrics),
        })),
        missingNodes: missing,
        topCallers: subject.kind === 'agent' ? topCallers(all.map((node) => node.callers)) : [],
        tracked: all.some((node) => node.tracked),
      }
    },
  }
}

export type TimeseriesCluster = ReturnType<typeof createTimeseriesCluster>
