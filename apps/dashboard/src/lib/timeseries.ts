import type { Timeseries, TimeseriesMetric, TimeseriesRange, TimeseriesSeries } from '@parley/protocol/admin'
import { toSearchParams } from './search-params'

/** What the charts ask `GET /api/admin/timeseries`: a range, and the gateway, one agent or one channel. */
export interface TimeseriesRequest {
  range?: TimeseriesRange
  agent?: string
  channel?: string
}

export function timeseriesSearchParams(request: TimeseriesRequest): URLSearchParams {
  return toSearchParams(request, ['range', 'agent', 'channel'])
}

/** The cluster's series (`total`) or one node's. */
export const TOTAL = 'total'

export function seriesOf(timeseries: Timeseries, node: string): TimeseriesSeries {
  if (node === TOTAL) return timeseries.total
  return timeseries.nodes.find((entry) => entry.nodeId === node)?.series ?? {}
}

/** One row per point for the chart: `time` and each metric's value (null: no sample). */
export type ChartRow = { time: number } & Partial<Record<TimeseriesMetric, number | null>>

export function chartRows(
  times: readonly number[],
  series: TimeseriesSeries,
  metrics: readonly TimeseriesMetric[],
): ChartRow[] {
  return times.map((time, point) => {
    const row: ChartRow = { time }
    for (const metric of metrics) row[metric] = series[metric]?.[point] ?? null
    return row
  })
}

/** The newest value of a series that has one (the last step may not be sampled yet on every node). */
export function latestValue(values: readonly (number | null)[] | undefined): number | null {
  if (values === undefined) return null
  for (let index = values.length - 1; index >= 0; index -= 1) {
    const value = values[index]
    if (value !== null && value !== undefined) return value
  }
  return null
}

/** A figure for a caption: whole numbers as they are, others with at most two decimals. */
export function formatFigure(value: number | null): string {
  if (value === null) return 'no data'
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)
}

/** `12:34:56` (UTC) for 1-second steps, `12:34` for 1-minute ones. */
export function formatTick(time: number, stepMs: number): string {
  const iso = new Date(time).toISOString()
  return stepMs < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16)
}
