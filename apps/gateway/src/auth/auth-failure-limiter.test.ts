import { describe, expect, it } from 'vitest'
import { createAuthFailureLimiter } from './auth-failure-limiter.js'

function clock(start = 1_000_000) {
  let time = start
  return { now: () => time, advance: (ms: number) => (time += ms) }
}

describe('auth failure limiter', () => {
  it('refuses an address after the limit within the window, with the time left, and forgives after it', () => {
    const time = clock()
    const limiter = createAuthFailureLimiter({ limit: 3, windowMs: 60_000, now: time.now })
    for (let i = 0; i < 3; i++) {
      expect(limiter.check('10.0.0.1')).toEqual({ allowed: true })
      limiter.recordFailure('10.0.0.1')
    }
    time.advance(10_000)
    expect(limiter.check('10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 50_000, firstRefusal: true })
    expect(limiter.check('10.0.0.1')).toMatchObject({ allowed: false, firstRefusal: false })
    expect(limiter.check('10.0.0.2')).toEqual({ allowed: true })
    time.advance(50_000)
    expect(limiter.check('10.0.0.1')).toEqual({ allowed: true })
  })

  it('never limits a request without an address', () => {
    const limiter = createAuthFailureLimiter({ limit: 1, windowMs: 60_000 })
    limiter.recordFailure(null)
    limiter.recordFailure(null)
    expect(limiter.check(null)).toEqual({ allowed: true })
    expect(limiter.size).toBe(0)
  })

  it('remembers at most maxAddresses addresses, forgetting the least recently seen', () => {
    const limiter = createAuthFailureLimiter({ limit: 1, windowMs: 60_000, maxAddresses: 100 })
    limiter.recordFailure('victim')
    for (let i = 0; i < 10_000; i++) {
      limiter.recordFailure(`spray-${i}`)
      if (i % 50 === 0) limiter.check('victim')
    }
    expect(limiter.size).toBe(100)
    // `victim` was seen recently, so the spray pushed others out, not it.
    expect(limiter.check('victim')).toMatchObject({ allowed: false })
    expect(limiter.check('spray-0')).toEqual({ allowed: true })
  })
})
