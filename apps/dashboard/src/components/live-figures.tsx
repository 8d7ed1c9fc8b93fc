'use client'

import type { TimeseriesRange } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { browserQueries } from '@/lib/browser-api'
import { firstFailure } from '@/lib/gateway-result'
import { seriesOf, type TimeseriesRequest, TOTAL } from '@/lib/timeseries'
import { type ChartLine, FigureChart } from './figure-chart'
import { GatewayErrorBanner } from './gateway-error-banner'

export interface ChartSpec {
  title: string
  unit: string
  lines: readonly ChartLine[]
  testId: string
}

const RANGE_LABELS: Record<TimeseriesRange, string> = {
  '15m': 'Last 15 minutes (1 s steps)',
  '24h': 'Last 24 hours (1 min steps)',
}

/**
 * Live charts of the gateway's figures (`GET /api/admin/timeseries`), refreshed every 2 seconds: the whole
 * cluster by default, or one node's; the last 15 minutes or 24 hours. `subject` picks one agent or channel.
 */
export function LiveFigures({
  heading,
  subject,
  charts,
  testId,
}: {
  heading: string
  subject?: Omit<TimeseriesRequest, 'range'>
  charts: readonly ChartSpec[]
  testId: string
}) {
  const [range, setRange] = useState<TimeseriesRange>('15m')
  const [node, setNode] = useState(TOTAL)
  const result = useQuery(browserQueries.timeseries({ ...subject, range })).data
  const timeseries = result?.ok ? result.data : undefined
  const series = timeseries === undefined ? {} : seriesOf(timeseries, node)
  return (
    <section className="live-figures" data-testid={testId} aria-label={heading}>
      <div className="section-head">
        <h2>{heading}</h2>
      </div>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <div className="filters">
        <label>
          Range
          <select
            value={range}
            onChange={(event) => setRange(event.target.value as TimeseriesRange)}
            data-testid={`${testId}-range`}
          >
            {Object.entries(RANGE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Node
          <select
            value={node}
            onChange={(event) => setNode(event.target.value)}
            data-testid={`${testId}-node`}
          >
            <option value={TOTAL}>All nodes (total)</option>
            {timeseries?.nodes.map((entry) => (
              <option key={entry.nodeId} value={entry.nodeId}>
                {entry.nodeId}
                {entry.self ? ' (answering)' : ''}
              </option>
            ))}
          </select>
        </label>
        {timeseries !== undefined && timeseries.missingNodes.length > 0 ? (
          <span className="muted small" data-testid={`${testId}-missing`}>
            No answer in time from {timeseries.missingNodes.join(', ')}: the totals lack their figures.
          </span>
        ) : null}
        {timeseries !== undefined && !timeseries.tracked ? (
          <span className="muted small" data-testid={`${testId}-untracked`}>
            No node keeps a series for this yet (nodes keep the most recently active agents and channels).
          </span>
        ) : null}
      </div>
      <div className="charts">
        {charts.map((chart) => (
          <FigureChart
            key={chart.testId}
            {...chart}
            times={timeseries?.times ?? []}
            stepMs={timeseries?.stepMs ?? 1_000}
            series={series}
          />
        ))}
      </div>
    </section>
  )
}
