'use client'

import type { TimeseriesMetric, TimeseriesSeries } from '@parley/protocol/admin'
import { useId } from 'react'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { chartRows, formatFigure, formatTick, latestValue } from '@/lib/timeseries'

export interface ChartLine {
  metric: TimeseriesMetric
  label: string
}

/** Line colours, each at least 4.5:1 on white. */
const COLOURS = ['#2449ad', '#a4262c', '#1f7a4d', '#8a5a00', '#6b3fa0']

/**
 * One chart of some figures over time (recharts). The drawing is hidden from assistive technology; its text
 * alternative is the caption, which names each figure's latest value (`data-value` holds the number, for
 * tests). Not animated: the data moves every refresh.
 */
export function FigureChart({
  title,
  unit,
  times,
  stepMs,
  series,
  lines,
  testId,
}: {
  title: string
  /** After each value in the caption: `/s`, ` ms`, or empty. */
  unit: string
  times: readonly number[]
  stepMs: number
  series: TimeseriesSeries
  lines: readonly ChartLine[]
  testId: string
}) {
  const captionId = useId()
  const rows = chartRows(
    times,
    series,
    lines.map((line) => line.metric),
  )
  return (
    <figure className="chart" data-testid={testId} aria-labelledby={captionId}>
      <div className="chart-plot" aria-hidden="true">
        <ResponsiveContainer width="100%" height={180} initialDimension={{ width: 320, height: 180 }}>
          <LineChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#dfe3e8" vertical={false} />
            <XAxis
              dataKey="time"
              tickFormatter={(time: number) => formatTick(time, stepMs)}
              minTickGap={48}
              tick={{ fontSize: 11 }}
            />
            <YAxis width={48} allowDecimals tick={{ fontSize: 11 }} />
            <Tooltip labelFormatter={(time) => formatTick(Number(time), stepMs)} />
            <Legend />
            {lines.map((line, index) => (
              <Line
                key={line.metric}
                type="monotone"
                dataKey={line.metric}
                name={line.label}
                stroke={COLOURS[index % COLOURS.length]}
                dot={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption id={captionId}>
        <strong>{title}</strong>, latest:{' '}
        {lines.map((line, index) => {
          const value = latestValue(series[line.metric])
          return (
            <span key={line.metric} data-testid={`${testId}-latest-${line.metric}`} data-value={value ?? ''}>
              {index > 0 ? ', ' : ''}
              {line.label} {formatFigure(value)}
              {value === null ? '' : unit}
            </span>
          )
        })}
      </figcaption>
    </figure>
  )
}
