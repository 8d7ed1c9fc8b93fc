import { describe, expect, it } from 'vitest'
import { formatBytes, formatClockUtc, formatExactBytes } from './display-format'

describe('formatBytes', () => {
  it('gives every size its unit', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(20 * 1024)).toBe('20 KB')
    expect(formatBytes(3 * 1024 * 1024)).toBe('3 MB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GB')
  })

  it('shows a dash when there is no size', () => {
    expect(formatBytes(null)).toBe('—')
    expect(formatBytes(undefined)).toBe('—')
  })

  it('gives the exact count for a tooltip', () => {
    expect(formatExactBytes(1536)).toBe('1,536 bytes')
    expect(formatExactBytes(1)).toBe('1 byte')
    expect(formatExactBytes(null)).toBeUndefined()
  })
})

describe('formatClockUtc', () => {
  it('shows epoch ms in UTC, 24-hour', () => {
    expect(formatClockUtc(Date.UTC(2025, 4, 1, 22, 5, 9))).toBe('2025-05-01 22:05:09 UTC')
  })
})
