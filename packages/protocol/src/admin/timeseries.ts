import { z } from 'zod'

/**
 * `GET /api/admin/timeseries`: the gateway's key figures over time, per node and in total. Each node samples
 * them every second (kept 15 minutes) and sums those samples per minute (kept 24 hours); the node that
 * answers asks every other node over the cluster bus and merges their series on one time axis.
 */

/**
 * The figures. Rates are per second (over the sample's step): `published` (channel publications accepted;
 * for a channel: publications fanned out, counted once per node), `delivered` (frames handed to recipients),
 * `agentRequests` and `agentErrors` (agent requests finished, and those that ended in an error),
 * `invalidFrames`. Gauges: `connections`, `deadLetters` (dead-letter depth), `subscribers` (a channel's live
 * subscribers). Latencies in milliseconds, from a histogram of the step's agent requests: `latencyP50`,
 * `latencyP95`, `latencyP99` (null when no request finished in the step).
 */
export const TIMESERIES_METRICS = [
  'published',
  'delivered',
  'connections',
  'agentRequests',
  'agentErrors',
  'latencyP50',
  'latencyP95',
  'latencyP99',
  'invalidFrames',
  'deadLetters',
  'subscribers',
] as const
export const TimeseriesMetric = z.enum(TIMESERIES_METRICS)
export type TimeseriesMetric = z.infer<typeof TimeseriesMetric>

/** `15m`: 1-second samples of the last 15 minutes; `24h`: 1-minute samples of the last 24 hours. */
export const TimeseriesRange = z.enum(['15m', '24h'])
export type TimeseriesRange = z.infer<typeof TimeseriesRange>

/** Whose figures: the whole gateway, one agent (by agent id), or one channel. */
export const TimeseriesSubjectKind = z.enum(['gateway', 'agent', 'channel'])
export type TimeseriesSubjectKind = z.infer<typeof TimeseriesSubjectKind>

/** The figures each subject has, in this order. */
export const SUBJECT_METRICS: Readonly<Record<TimeseriesSubjectKind, readonly TimeseriesMetric[]>> = {
  gateway: TIMESERIES_METRICS.filter((metric) => metric !== 'subscribers'),
  agent: ['agentRequests', 'agentErrors', 'latencyP50', 'latencyP95', 'latencyP99'],
  channel: ['published', 'subscribers'],
}

/**
 * Query of `GET /api/admin/timeseries`. `metrics` is a comma list (all of the subject's when absent; one the
 * subject does not have is refused); `agent` or `channel` (not both) picks a subject other than the gateway.
 */
export const TimeseriesQuery = z
  .object({
    range: TimeseriesRange.default('15m'),
    // A pattern rather than a transform, so the schema converts to JSON Schema (OpenAPI) as it is.
    metrics: z
      .string()
      .max(400)
      .regex(
        new RegExp(`^(${TIMESERIES_METRICS.join('|')})(,(${TIMESERIES_METRICS.join('|')}))*$`),
        `a comma list of ${TIMESERIES_METRICS.join(', ')}`,
      )
      .optional(),
    agent: z.string().min(1).max(200).optional(),
    channel: z.string().min(1).max(200).optional(),
  })
  .refine((query) => query.agent === undefined || query.channel === undefined, {
    message: 'name an agent or a channel, not both',
    path: ['channel'],
  })
export type TimeseriesQuery = z.infer<typeof TimeseriesQuery>

/** The metrics a query names (its comma list), in its order. */
export function timeseriesMetricsOf(query: Pick<TimeseriesQuery, 'metrics'>): TimeseriesMetric[] | undefined {
  return query.metrics?.split(',') as TimeseriesMetric[] | undefined
}

/** Each asked metric's values, one per point of `times` (null: no sample there). */
export const TimeseriesSeries = z.partialRecord(TimeseriesMetric, z.array(z.number().nullable()))
export type TimeseriesSeries = z.infer<typeof TimeseriesSeries>

export const TimeseriesNodeSeries = z.object({
  nodeId: z.string(),
  /** True for the node that answered. */
  self: z.boolean(),
  series: TimeseriesSeries,
})
export type TimeseriesNodeSeries = z.infer<typeof TimeseriesNodeSeries>

/**
 * Who called an agent most over the last 15 minutes (`caller` null: plain clients, not agents; `*`: callers
 * beyond the 50 a node counts per agent and minute).
 */
export const TimeseriesCaller = z.object({
  caller: z.string().nullable(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
})
export type TimeseriesCaller = z.infer<typeof TimeseriesCaller>

export const Timeseries = z.object({
  range: TimeseriesRange,
  /** Milliseconds between two points (1,000 or 60,000). */
  stepMs: z.number().int().positive(),
  /** Start of each point's step, epoch milliseconds, oldest first. */
  times: z.array(z.number().int()),
  subject: z.object({ kind: TimeseriesSubjectKind, name: z.string().nullable() }),
  /**
   * The cluster's figures: sums of the nodes', except `deadLetters` (one queue shared by the nodes) and a
   * channel's `published` (each node that fans a publication out counts it), which take the highest node's.
   * Latencies come from the nodes' histograms added together.
   */
  total: TimeseriesSeries,
  nodes: z.array(TimeseriesNodeSeries),
  /** Nodes listed in the cluster that did not answer in time (their figures are missing from `total`). */
  missingNodes: z.array(z.string()),
  /** An agent's top callers (agent subject only, most requests first). */
  topCallers: z.array(TimeseriesCaller),
  /**
   * For an agent or channel: whether any node keeps its series. A node keeps a bounded number of agents and
   * channels (the most recently active); the figures of one it does not keep read as null.
   */
  tracked: z.boolean(),
})
export type Timeseries = z.infer<typeof Timeseries>
