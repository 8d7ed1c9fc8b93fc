import { describe, expect, it } from 'vitest'
import { RecentIds } from './recent-ids.js'

describe('RecentIds', () => {
  it('reports an id seen before as a duplicate', () => {
    const recent = new RecentIds(3)
    expect(recent.add('a')).toBe(true)
    expect(recent.add('a')).toBe(false)
  })

  it('forgets the oldest id beyond its capacity', () => {
    const recent = new RecentIds(2)
    recent.add('a')
    recent.add('b')
    recent.add('c')
    expect(recent.add('a')).toBe(true)
    expect(recent.add('c')).toBe(false)
  })
})
