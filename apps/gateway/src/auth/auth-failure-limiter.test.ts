import { describe, expect, it } from 'vitest'
import { createAuthFailureLimiter } from './auth-failure-limiter.js'

// The windows themselves (expiry, time left, bounded memory) are the failure counter's: see its tests.
const now = () => 1_000_000

describe('auth failure limiter', () => {
  it('refuses one credential retried from one address after the limit, with the time left', () => {
    const limiter = createAuthFailureLimiter({ limit: 3, windowMs: 60_000, now })
    for (let i = 0; i < 3; i++) {
      expect(limiter.check('10.0.0.1', 'stale')).toEqual({ allowed: true })
      limiter.recordFailure('10.0.0.1', 'stale')
    }
    expect(limiter.check('10.0.0.1', 'stale')).toEqual({
      allowed: false,
      retryAfterMs: 60_000,
      firstRefusal: true,
    })
    expect(limiter.check('10.0.0.1', 'stale')).toMatchObject({ allowed: false, firstRefusal: false })
    expect(limiter.check('10.0.0.2', 'stale')).toEqual({ allowed: true })
  })

  it('does not lock another credential out of an address where one stale credential keeps failing', () => {
    const limiter = createAuthFailureLimiter({ limit: 3, windowMs: 60_000 })
    for (let i = 0; i < 50; i++) limiter.recordFailure('10.0.0.1', 'stale-token')
    expect(limiter.check('10.0.0.1', 'stale-token')).toMatchObject({ allowed: false })
    expect(limiter.check('10.0.0.1', 'admin-token')).toEqual({ allowed: true })
  })

  it('bounds guessing: after limit different wrong credentials from an address, unknown credentials are refused unchecked', () => {
    const limiter = createAuthFailureLimiter({ limit: 3, windowMs: 60_000, now })
    for (const guess of ['a', 'b', 'c']) {
      expect(limiter.check('10.0.0.1', guess)).toEqual({ allowed: true })
      limiter.recordFailure('10.0.0.1', guess)
    }
    expect(limiter.check('10.0.0.1', 'd')).toMatchObject({ allowed: false, retryAfterMs: 60_000 })
    expect(limiter.check('10.0.0.1', 'a')).toMatchObject({ allowed: false })
    expect(limiter.check('10.0.0.1')).toMatchObject({ allowed: false })
    // Other addresses are not affected.
    expect(limiter.check('10.0.0.2', 'd')).toEqual({ allowed: true })
  })

  it('still checks a credential that authenticated before, from an address locked by guesses', () => {
    const limiter = createAuthFailureLimiter({ limit: 2, windowMs: 60_000 })
    limiter.recordSuccess('operator-session')
    for (const guess of ['a', 'b', 'c', 'd']) limiter.recordFailure('10.0.0.1', guess)
    expect(limiter.check('10.0.0.1', 'never-used')).toMatchObject({ allowed: false })
    expect(limiter.check('10.0.0.1', 'operator-session')).toEqual({ allowed: true })
  })

  it('forgets a remembered credential once it fails (revoked), so it counts as unknown again', () => {
    const limiter = createAuthFailureLimiter({ limit: 1, windowMs: 60_000 })
    limiter.recordSuccess('revoked-later')
    limiter.recordFailure('10.0.0.1', 'other')
    expect(limiter.check('10.0.0.1', 'revoked-later')).toEqual({ allowed: true })
    limiter.recordFailure('10.0.0.9', 'revoked-later')
    expect(limiter.check('10.0.0.1', 'revoked-later')).toMatchObject({ allowed: false })
  })

  it('treats attempts without a credential as one credential of their own', () => {
    const limiter = createAuthFailureLimiter({ limit: 2, windowMs: 60_000 })
    limiter.recordFailure('10.0.0.1')
    limiter.recordFailure('10.0.0.1')
    expect(limiter.check('10.0.0.1')).toMatchObject({ allowed: false })
    expect(limiter.check('10.0.0.1', 'a-token')).toEqual({ allowed: true })
  })

  it('never limits a request without an address', () => {
    const limiter = createAuthFailureLimiter({ limit: 1, windowMs: 60_000 })
    limiter.recordFailure(null, 'x')
    limiter.recordFailure(null, 'x')
    expect(limiter.check(null, 'x')).toEqual({ allowed: true })
    expect(limiter.size).toBe(0)
  })

  it('remembers at most maxKnownCredentials valid credentials, forgetting the least recently used', () => {
    const limiter = createAuthFailureLimiter({ limit: 1, windowMs: 60_000, maxKnownCredentials: 2 })
    limiter.recordSuccess('first')
    limiter.recordSuccess('second')
    limiter.recordSuccess('first')
    limiter.recordSuccess('third')
    limiter.recordFailure('10.0.0.1', 'guess')
    expect(limiter.check('10.0.0.1', 'first')).toEqual({ allowed: true })
    expect(limiter.check('10.0.0.1', 'third')).toEqual({ allowed: true })
    expect(limiter.check('10.0.0.1', 'second')).toMatchObject({ allowed: false })
  })
})

describe('auth failure limiter behind a relay (the dashboard naming its browsers)', () => {
  it('counts each named browser on its own, so one cannot lock out another', () => {
    const limiter = createAuthFailureLimiter({ limit: 2, windowMs: 60_000 })
    for (const guess of ['a', 'b', 'c']) limiter.recordFailure('198.51.100.1', guess, '10.0.0.9')
    expect(limiter.check('198.51.100.1', 'd', '10.0.0.9')).toMatchObject({ allowed: false })
    expect(limiter.check('198.51.100.2', 'admin-token', '10.0.0.9')).toEqual({ allowed: true })
  })

  it('still bounds guessing through the relay when every guess names another address', () => {
    const limiter = createAuthFailureLimiter({ limit: 2, windowMs: 60_000, relayFactor: 3 })
    for (let guess = 0; guess < 6; guess++) {
      expect(limiter.check(`198.51.100.${guess}`, `guess-${guess}`, '10.0.0.9')).toEqual({ allowed: true })
      limiter.recordFailure(`198.51.100.${guess}`, `guess-${guess}`, '10.0.0.9')
    }
    expect(limiter.check('198.51.100.99', 'guess-x', '10.0.0.9')).toMatchObject({ allowed: false })
    // A credential that worked before still passes; requests not relayed are not affected.
    limiter.recordSuccess('operator-session')
    expect(limiter.check('198.51.100.99', 'operator-session', '10.0.0.9')).toEqual({ allowed: true })
    expect(limiter.check('10.0.0.9', 'guess-x')).toEqual({ allowed: true })
  })
})
