import { describe, expect, it } from 'vitest'
import { createFailureCounter } from './failure-counter.js'

function clock(start = 1_000_000) {
  let time = start
  return { now: () => time, advance: (ms: number) => (time += ms) }
}

describe('failure counter', () => {
  it('refuses a key after the limit within the window, with the time left, and forgives after it', () => {
    const time = clock()
    const counter = createFailureCounter({ limit: 3, windowMs: 60_000, now: time.now })
    for (let i = 0; i < 3; i++) {
      expect(counter.check('10.0.0.1')).toEqual({ allowed: true })
      expect(counter.recordFailure('10.0.0.1')).toEqual({ firstInWindow: i === 0 })
    }
    time.advance(10_000)
    expect(counter.check('10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 50_000, firstRefusal: true })
    expect(counter.check('10.0.0.1')).toMatchObject({ allowed: false, firstRefusal: false })
    expect(counter.check('10.0.0.2')).toEqual({ allowed: true })
    time.advance(50_000)
    expect(counter.check('10.0.0.1')).toEqual({ allowed: true })
    expect(counter.recordFailure('10.0.0.1')).toEqual({ firstInWindow: true })
  })

  it('remembers at most maxKeys keys, forgetting the least recently seen', () => {
    const counter = createFailureCounter({ limit: 1, windowMs: 60_000, maxKeys: 100 })
    counter.recordFailure('victim')
    for (let i = 0; i < 10_000; i++) {
      counter.recordFailure(`spray-${i}`)
      if (i % 50 === 0) counter.check('victim')
    }
    expect(counter.size).toBe(100)
    // `victim` was seen recently, so the spray pushed others out, not it.
    expect(counter.check('victim')).toMatchObject({ allowed: false })
    expect(counter.check('spray-0')).toEqual({ allowed: true })
  })
})
