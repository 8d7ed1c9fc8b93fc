import { describe, expect, it } from 'vitest'
import { formatTraceparent, parseTraceparent, traceContextOfSpan } from './trace-context.js'

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('parseTraceparent', () => {
  it('reads the ids and flags of a version 00 traceparent and formats it back unchanged', () => {
    const parsed = parseTraceparent(VALID)
    expect(parsed).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    })
    expect(parsed === undefined ? undefined : formatTraceparent(parsed)).toBe(VALID)
  })

  it('accepts the extra fields of a later version and ignores them', () => {
    expect(parseTraceparent(`cc${VALID.slice(2)}-what-comes-next`)?.spanId).toBe('00f067aa0ba902b7')
  })

  it.each([
    ['too few fields', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7'],
    ['version ff', `ff${VALID.slice(2)}`],
    ['extra fields on version 00', `${VALID}-extra`],
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper-case hex', VALID.toUpperCase()],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01'],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined()
  })
})

describe('traceContextOfSpan', () => {
  it('gives the traceparent and a non-empty tracestate of a span context', () => {
    const span = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }
    expect(traceContextOfSpan(span)).toEqual({ traceparent: VALID })
    expect(traceContextOfSpan({ ...span, traceState: { serialize: () => 'a=1' } })).toEqual({
      traceparent: VALID,
      tracestate: 'a=1',
    })
  })

  it('leaves out a tracestate longer than a frame takes', () => {
    const span = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }
    const long = `a=${'x'.repeat(600)}`
    expect(traceContextOfSpan({ ...span, traceState: { serialize: () => long } })).toEqual({
      traceparent: VALID,
    })
  })
})
