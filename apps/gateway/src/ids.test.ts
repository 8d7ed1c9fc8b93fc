import { describe, expect, it } from 'vitest'
import { newId, newTraceId } from './ids.js'

describe('newTraceId', () => {
  it('returns 32 lowercase hex digits, the W3C trace-id format, never all zeros', () => {
    for (let index = 0; index < 1_000; index += 1) {
      const traceId = newTraceId()
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(traceId).not.toBe('0'.repeat(32))
    }
  })

  it('never repeats an id across many refills of its random pool', () => {
    const count = 20_000
    const traceIds = new Set(Array.from({ length: count }, () => newTraceId()))
    expect(traceIds.size).toBe(count)
  })
})

describe('newId', () => {
  it('returns the prefix and 32 hex digits', () => {
    expect(newId('req')).toMatch(/^req_[0-9a-f]{32}$/)
  })

  it('never repeats an id across many refills of the random pool it shares with trace ids', () => {
    const count = 20_000
    const ids = new Set(
      Array.from({ length: count }, (_, index) =>
        index % 2 ? newTraceId() : newId('req').slice('req_'.length),
      ),
    )
    expect(ids.size).toBe(count)
  })
})
