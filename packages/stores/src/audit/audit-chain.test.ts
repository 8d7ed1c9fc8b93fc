import { describe, expect, it } from 'vitest'
import { canonicalTime } from './audit-chain.js'

describe('canonicalTime', () => {
  it('spells a database time as the canonical form does: three fraction digits when the last three are zeros, else six', () => {
    const regex = (micros: string) => micros.replace(/\.(\d{3})000Z$/, '.$1Z')
    const samples = [
      '2025-03-01T12:00:00.000000Z',
      '2025-03-01T12:00:00.123000Z',
      '2025-03-01T12:00:00.123456Z',
      '2025-03-01T12:00:00.000001Z',
      '2025-03-01T12:00:00.100000Z',
      '0001-01-01T00:00:00.999000Z',
      '9999-12-31T23:59:59.999999Z',
      '2025-03-01T12:00:00Z',
      '000Z',
    ]
    for (const sample of samples) expect(canonicalTime(sample)).toBe(regex(sample))
    expect(canonicalTime('2025-03-01T12:00:00.123000Z')).toBe('2025-03-01T12:00:00.123Z')
  })
})
