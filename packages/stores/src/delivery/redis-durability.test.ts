import { describe, expect, it } from 'vitest'
import { durabilityWarnings } from './redis-durability.js'

describe('durabilityWarnings', () => {
  it('says nothing for noeviction with AOF or with RDB save points', () => {
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: true, savePoints: '' })).toEqual(
      [],
    )
    expect(
      durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, savePoints: '3600 1 300 100' }),
    ).toEqual([])
  })

  it('warns about an evicting memory policy', () => {
    const warnings = durabilityWarnings({ maxmemoryPolicy: 'allkeys-lru', aofEnabled: true, savePoints: '' })
    expect(warnings).toEqual([expect.stringContaining('maxmemory-policy is allkeys-lru')])
  })

  it('warns when neither AOF nor RDB is on, and not when CONFIG could not tell', () => {
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, savePoints: '' })).toEqual([
      expect.stringContaining('neither AOF nor RDB'),
    ])
    expect(
      durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, savePoints: undefined }),
    ).toEqual([])
  })
})
