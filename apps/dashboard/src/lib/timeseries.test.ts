import type { Timeseries } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import {
  chartRows,
  formatFigure,
  formatTick,
  latestValue,
  seriesOf,
  TOTAL,
  timeseriesSearchParams,
} from './timeseries'

const answer: Timeseries = {
  range: '15m',
  stepMs: 1_000,
  times: [0, 1_000, 2_000],
  subject: { kind: 'gateway', name: null },
  total: { published: [1, 3, null] },
  nodes: [
    { nodeId: 'node-a', self: true, series: { published: [1, 2, null] } },
    { nodeId: 'node-b', self: false, series: { published: [0, 1, null] } },
  ],
  missingNodes: [],
  topCallers: [],
  tracked: true,
}

describe('time series helpers', () => {
  it('reads the total or one node, and nothing for a node that left', () => {
    expect(seriesOf(answer, TOTAL).published).toEqual([1, 3, null])
    expect(seriesOf(answer, 'node-b').published).toEqual([0, 1, null])
    expect(seriesOf(answer, 'node-gone')).toEqual({})
  })

  it('turns series into one chart row per point, null where a step has no sample', () => {
    expect(chartRows(answer.times, answer.total, ['published', 'delivered'])).toEqual([
      { time: 0, published: 1, delivered: null },
      { time: 1_000, published: 3, delivered: null },
      { time: 2_000, published: null, delivered: null },
    ])
  })

  it('captions the newest sampled value, skipping steps not sampled yet', () => {
    expect(latestValue([1, 3, null])).toBe(3)
    expect(latestValue([null, null])).toBeNull()
    expect(latestValue(undefined)).toBeNull()
    expect(formatFigure(null)).toBe('no data')
    expect(formatFigure(1234)).toBe('1,234')
    expect(formatFigure(2.345)).toBe('2.35')
  })

  it('labels 1-second steps with seconds and 1-minute steps without, in UTC', () => {
    const time = Date.parse('2026-03-01T12:34:56.000Z')
    expect(formatTick(time, 1_000)).toBe('12:34:56')
    expect(formatTick(time, 60_000)).toBe('12:34')
  })

  it('asks for a range and a subject in a fixed order, leaving out what is unset', () => {
    expect(timeseriesSearchParams({ channel: 'news', range: '24h' }).toString()).toBe(
      'range=24h&channel=news',
    )
    expect(timeseriesSearchParams({}).toString()).toBe('')
  })
})
