import { describe, expect, it } from 'vitest'
import { pausedView } from './paused-rows'

const row = (id: string, second: number) => ({
  id,
  time: `2025-05-01T10:00:${String(second).padStart(2, '0')}Z`,
})

describe('pausedView', () => {
  const snapshot = [row('c', 30), row('b', 20), row('a', 10)]

  it('keeps the rows on screen and counts the ones that arrived since', () => {
    const current = [row('e', 50), row('d', 40), ...snapshot]
    expect(pausedView(snapshot, current)).toEqual({ rows: snapshot, newCount: 2 })
  })

  it('keeps rows that newer ones pushed off the last page', () => {
    const current = [row('e', 50), row('d', 40), row('c', 30)]
    expect(pausedView(snapshot, current)).toEqual({ rows: snapshot, newCount: 2 })
  })

  it('appends older rows loaded while paused', () => {
    const current = [row('d', 40), ...snapshot, row('z', 5)]
    expect(pausedView(snapshot, current)).toEqual({ rows: [...snapshot, row('z', 5)], newCount: 1 })
  })

  it('counts every row as new when nothing was on screen', () => {
    expect(pausedView([], [row('a', 10)])).toEqual({ rows: [], newCount: 1 })
  })
})
