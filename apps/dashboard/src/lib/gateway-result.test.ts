import { Health } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import {
  describeFailure,
  failed,
  firstFailure,
  gatewayResultSchema,
  httpStatusOf,
  succeeded,
} from './gateway-result'

describe('describeFailure', () => {
  it('names the gateway URL and the reason when it is unreachable', () => {
    expect(
      describeFailure({ kind: 'unreachable', url: 'http://127.0.0.1:8765', reason: 'ECONNREFUSED' }),
    ).toBe('Gateway unreachable at http://127.0.0.1:8765: ECONNREFUSED')
  })
})

describe('firstFailure', () => {
  it('skips successes and results still loading', () => {
    const failure = { kind: 'unauthorized', message: 'no' } as const
    expect(firstFailure(undefined, succeeded(1), failed(failure))).toEqual(failure)
    expect(firstFailure(undefined, succeeded(1))).toBeUndefined()
  })
})

describe('httpStatusOf', () => {
  it('maps results to the status of the /api/gw answer', () => {
    expect(httpStatusOf(succeeded({}))).toBe(200)
    expect(httpStatusOf(failed({ kind: 'unauthorized', message: 'x' }))).toBe(401)
    expect(httpStatusOf(failed({ kind: 'http', status: 400, code: 'bad', message: 'x' }))).toBe(400)
    expect(httpStatusOf(failed({ kind: 'http', status: 500, code: 'internal', message: 'x' }))).toBe(502)
    expect(httpStatusOf(failed({ kind: 'unreachable', url: 'u', reason: 'r' }))).toBe(502)
  })
})

describe('gatewayResultSchema', () => {
  it('validates the data of a success with the protocol schema', () => {
    const schema = gatewayResultSchema(Health)
    expect(schema.safeParse({ ok: true, data: { status: 'ok' } }).success).toBe(false)
    expect(schema.safeParse({ ok: false, failure: { kind: 'unauthorized', message: 'x' } }).success).toBe(
      true,
    )
    expect(schema.safeParse({ ok: false, failure: { kind: 'mystery' } }).success).toBe(false)
  })
})
