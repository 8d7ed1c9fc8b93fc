import {
  SUBJECT_METRICS,
  type TimeseriesMetric,
  type TimeseriesRange,
  type TimeseriesSeries,
  type TimeseriesSubjectKind,
} from '@parley/protocol'
import { LATENCY_BUCKETS, latencyQuantile } from './latency-histogram.js'
import { SeriesRing, type SlotMerge } from './series-ring.js'

/**
 * The raw fields each kind of subject samples, how one step merges two writes (`slot`), and how the nodes'
 * values of one step merge into the cluster's (`nodes`). Latencies are kept as histogram buckets (`lat0` …),
 * turned into percentiles only when read, so nodes merge exactly.
 */
export interface FieldSpec {
  name: string
  slot: SlotMerge
  nodes: 'sum' | 'max'
}

const count = (name: string): FieldSpec => ({ name, slot: 'sum', nodes: 'sum' })
const latencyFields: FieldSpec[] = Array.from({ length: LATENCY_BUCKETS }, (_, index) => count(`lat${index}`))

export const SUBJECT_FIELDS: Readonly<Record<TimeseriesSubjectKind, readonly FieldSpec[]>> = {
  gateway: [
    count('published'),
    count('delivered'),
    { name: 'connections', slot: 'last', nodes: 'sum' },
    count('agentRequests'),
    count('agentErrors'),
    count('invalidFrames'),
    // One dead-letter queue in the shared store: every node reads the same depth.
    { name: 'deadLetters', slot: 'last', nodes: 'max' },
    ...latencyFields,
  ],
  agent: [count('agentRequests'), count('agentErrors'), ...latencyFields],
  // Each node that fans a publication out counts it once: the busiest node's count is the channel's.
  channel: [
    { name: 'published', slot: 'sum', nodes: 'max' },
    { name: 'subscribers', slot: 'last', nodes: 'sum' },
  ],
}

/** 1-second steps for 15 minutes, 1-minute steps for 24 hours. */
export const RANGES: Readonly<Record<TimeseriesRange, { stepMs: number; points: number }>> = {
  '15m': { stepMs: 1_000, points: 15 * 60 },
  '24h': { stepMs: 60_000, points: 24 * 60 },
}

/** One subject's samples at both resolutions. */
export class SubjectSeries {
  readonly kind: TimeseriesSubjectKind
  readonly #rings: Record<TimeseriesRange, SeriesRing>

  constructor(kind: TimeseriesSubjectKind) {
    this.kind = kind
    const merges = SUBJECT_FIELDS[kind].map((field) => field.slot)
    this.#rings = {
      '15m': new SeriesRing(RANGES['15m'].stepMs, RANGES['15m'].points, merges),
      '24h': new SeriesRing(RANGES['24h'].stepMs, RANGES['24h'].points, merges),
    }
  }

  /** Records one second's values (in `SUBJECT_FIELDS` order) into its second and its minute. */
  record(time: number, values: ArrayLike<number>): void {
    for (const ring of Object.values(this.#rings)) ring.write(ring.stepOf(time), values)
  }

  /** Each field's values at `times` (steps of `range`), null where no sample was kept. */
  columns(range: TimeseriesRange, times: readonly number[]): RawColumns {
    const ring = this.#rings[range]
    const fields = SUBJECT_FIELDS[this.kind]
    const columns: RawColumns = fields.map(() => new Array<number | null>(times.length).fill(null))
    times.forEach((time, point) => {
      const row = ring.read(time)
      if (row === undefined) return
      row.forEach((value, field) => {
        ;(columns[field] as (number | null)[])[point] = Number.isNaN(value) ? null : value
      })
    })
    return columns
  }
}

/** Raw fields of one subject (in `SUBJECT_FIELDS` order), one value (or null) per point. */
export type RawColumns = (number | null)[][]

/** The points of `range` ending with the last complete step before `now`. */
export function timeAxis(range: TimeseriesRange, now: number): number[] {
  const { stepMs, points } = RANGES[range]
  const end = Math.floor(now / stepMs) * stepMs - stepMs
  return Array.from({ length: points }, (_, index) => end - (points - 1 - index) * stepMs)
}

/** The cluster's columns: each field merged over the nodes by its rule; null where no node had a sample. */
export function mergeColumns(kind: TimeseriesSubjectKind, nodes: readonly RawColumns[]): RawColumns {
  return SUBJECT_FIELDS[kind].map((field, index) => {
    const length = nodes[0]?.[index]?.length ?? 0
    return Array.from({ length }, (_, point) => {
      let merged: number | null = null
      for (const node of nodes) {
        const value = node[index]?.[point] ?? null
        if (value === null) continue
        merged = merged === null ? value : field.nodes === 'sum' ? merged + value : Math.max(merged, value)
      }
      return merged
    })
  })
}

const RATES = new Set<TimeseriesMetric>([
  'published',
  'delivered',
  'agentRequests',
  'agentErrors',
  'invalidFrames',
])
const QUANTILES: Partial<Record<TimeseriesMetric, number>> = {
  latencyP50: 0.5,
  latencyP95: 0.95,
  latencyP99: 0.99,
}

/** The asked metrics of raw columns: counts per second, gauges as they are, latency percentiles in ms. */
export function metricsOf(
  kind: TimeseriesSubjectKind,
  columns: RawColumns,
  stepMs: number,
  metrics: readonly TimeseriesMetric[] = SUBJECT_METRICS[kind],
): TimeseriesSeries {
  const fields = SUBJECT_FIELDS[kind]
  const column = (name: string) => columns[fields.findIndex((field) => field.name === name)] ?? []
  const seconds = stepMs / 1000
  const series: TimeseriesSeries = {}
  for (const metric of metrics) {
    const quantile = QUANTILES[metric]
    if (quantile !== undefined) {
      const buckets = latencyColumns(fields, columns)
      const length = buckets[0]?.length ?? 0
      series[metric] = Array.from({ length }, (_, point) => {
        const counts = buckets.map((bucket) => bucket[point] ?? 0)
        const value = latencyQuantile(counts, quantile)
        return value === undefined ? null : round(value)
      })
    } else if (RATES.has(metric)) {
      series[metric] = column(metric).map((value) => (value === null ? null : round(value / seconds)))
    } else {
      series[metric] = column(metric)
    }
  }
  return series
}

function latencyColumns(fields: readonly FieldSpec[], columns: RawColumns): RawColumns {
  return fields.flatMap((field, index) => (field.name.startsWith('lat') ? [columns[index] ?? []] : []))
}

/** Three decimals: rates over a minute and interpolated latencies need no more. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
