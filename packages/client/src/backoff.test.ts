import { describe, expect, it } from 'vitest'
import { fullJitterDelay, shutdownDelay } from './backoff.js'

const options = { initialDelayMs: 500, maxDelayMs: 20_000 }

describe('fullJitterDelay', () => {
  it('spans the whole range from 0 to initial * 2^attempt', () => {
    expect(fullJitterDelay(0, options, () => 0)).toBe(0)
    expect(fullJitterDelay(0, options, () => 0.999_999)).toBe(499)
    expect(fullJitterDelay(3, options, () => 0.5)).toBe(2_000)
    expect(fullJitterDelay(3, options, () => 0.999_999)).toBe(3_999)
  })

  it('never exceeds maxDelayMs however many attempts failed', () => {
    expect(fullJitterDelay(6, options, () => 0.999_999)).toBe(19_999)
    expect(fullJitterDelay(10_000, options, () => 0.999_999)).toBe(19_999)
  })

  it('stays within bounds with the real random source', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt)
      for (let i = 0; i < 50; i++) {
        const delay = fullJitterDelay(attempt, options, Math.random)
        expect(delay).toBeGreaterThanOrEqual(0)
        expect(delay).toBeLessThan(ceiling)
      }
    }
  })
})

describe('shutdownDelay', () => {
  it('waits at least what the gateway asked and at most twice that', () => {
    expect(shutdownDelay(1_000, 500, () => 0)).toBe(1_000)
    expect(shutdownDelay(1_000, 500, () => 0.999_999)).toBe(1_999)
  })

  it('still jitters when the gateway asks for no wait', () => {
    expect(shutdownDelay(0, 500, () => 0.5)).toBe(250)
  })
})
