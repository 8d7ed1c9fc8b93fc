import { describe, expect, it } from 'vitest'
import { traceContextOfHeaders } from './http-trace-context.js'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const caller = { id: 'tok_1' }

describe('trace context of an HTTP request', () => {
  it('keeps an authenticated caller’s traceparent and tracestate', () => {
    const headers = new Headers({ traceparent: TRACEPARENT, tracestate: 'vendor=1' })
    expect(traceContextOfHeaders(caller, headers)).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'vendor=1',
    })
  })

  it('joins repeated tracestate headers into one list, as W3C combines them', () => {
    const headers = new Headers([
      ['traceparent', TRACEPARENT],
      ['tracestate', 'a=1'],
      ['tracestate', 'b=2'],
    ])
    expect(traceContextOfHeaders(caller, headers).tracestate).toBe('a=1, b=2')
  })

  it('drops an anonymous caller’s trace context', () => {
    const headers = new Headers({ traceparent: TRACEPARENT, tracestate: 'vendor=1' })
    expect(traceContextOfHeaders({ id: 'anonymous' }, headers)).toEqual({})
  })

  it('ignores a traceparent that does not parse or is too long, with its tracestate', () => {
    for (const bad of [
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-${'x'.repeat(300)}`,
      `${TRACEPARENT}, ${TRACEPARENT}`,
      '',
    ]) {
      expect(
        traceContextOfHeaders(caller, new Headers({ traceparent: bad, tracestate: 'a=1' })),
        bad,
      ).toEqual({})
    }
    expect(traceContextOfHeaders(caller, new Headers({ tracestate: 'a=1' }))).toEqual({})
  })

  it('drops only a tracestate longer than a frame takes', () => {
    const headers = new Headers({ traceparent: TRACEPARENT, tracestate: `a=${'x'.repeat(600)}` })
    expect(traceContextOfHeaders(caller, headers)).toEqual({ traceparent: TRACEPARENT })
  })
})
