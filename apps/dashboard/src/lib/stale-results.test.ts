import { describe, expect, it } from 'vitest'
import { failed, firstFailure, type GatewayFailure, type GatewayResult, succeeded } from './gateway-result'
import { keepLastGood } from './stale-results'

const down: GatewayFailure = { kind: 'unreachable', url: 'http://gw', reason: 'connect ECONNREFUSED' }
const later: GatewayFailure = { kind: 'http', status: 503, code: 'unavailable', message: 'draining' }

describe('keepLastGood', () => {
  it('stamps a good answer with when it arrived', () => {
    expect(keepLastGood(undefined, succeeded([1]), 1_000)).toEqual({ ok: true, data: [1], receivedAt: 1_000 })
  })

  it('keeps the last good answer when a refresh fails, marked stale with the failure and its time', () => {
    const good = keepLastGood(undefined, succeeded(['row']), 1_000)
    const kept = keepLastGood(good, failed(down), 3_000) as GatewayResult<string[]>
    expect(kept).toMatchObject({ ok: true, data: ['row'], stale: { failure: down, lastUpdatedAt: 1_000 } })
    expect(firstFailure(kept)).toEqual({ ...down, lastUpdatedAt: 1_000 })
  })

  it('keeps the time of the last good answer over several failures, with the latest failure', () => {
    const good = keepLastGood(undefined, succeeded(['row']), 1_000)
    const once = keepLastGood(good, failed(down), 3_000)
    const twice = keepLastGood(once, failed(later), 5_000)
    expect(twice).toMatchObject({ ok: true, data: ['row'], stale: { failure: later, lastUpdatedAt: 1_000 } })
  })

  it('drops the stale mark as soon as an answer arrives again', () => {
    const kept = keepLastGood(keepLastGood(undefined, succeeded(['row']), 1_000), failed(down), 3_000)
    expect(keepLastGood(kept, succeeded(['new']), 5_000)).toEqual({
      ok: true,
      data: ['new'],
      receivedAt: 5_000,
    })
  })

  it('passes an answer that the thing is gone (404) or the session ended (401) through, not kept', () => {
    const good = keepLastGood(undefined, succeeded(['row']), 1_000)
    const gone = failed({ kind: 'http', status: 404, code: 'not_found', message: 'no such task' })
    expect(keepLastGood(good, gone, 3_000)).toEqual(gone)
    const ended = failed({ kind: 'unauthorized', message: 'session expired' })
    expect(keepLastGood(good, ended, 3_000)).toEqual(ended)
  })

  it('keeps the data through a 5xx or a rate limit', () => {
    const good = keepLastGood(undefined, succeeded(['row']), 1_000)
    for (const status of [502, 503, 429]) {
      const failure = failed({ kind: 'http', status, code: 'x', message: 'y' })
      expect(keepLastGood(good, failure, 3_000)).toMatchObject({ ok: true, stale: { lastUpdatedAt: 1_000 } })
    }
  })

  it('passes a failure through when there was nothing good before', () => {
    expect(keepLastGood(undefined, failed(down), 1_000)).toEqual(failed(down))
  })

  it('keeps every page of an infinite query when a page of the refresh failed', () => {
    const good = keepLastGood(
      undefined,
      { pages: [succeeded('a'), succeeded('b')], pageParams: [null, 'c1'] },
      1_000,
    )
    const kept = keepLastGood(good, { pages: [failed(down)], pageParams: [null] }, 3_000) as {
      pages: GatewayResult<string>[]
      pageParams: unknown[]
    }
    expect(kept.pageParams).toEqual([null, 'c1'])
    expect(kept.pages.map((page) => (page.ok ? page.data : undefined))).toEqual(['a', 'b'])
    expect(firstFailure(...kept.pages)).toEqual({ ...down, lastUpdatedAt: 1_000 })
  })

  it('passes other data through unchanged', () => {
    expect(keepLastGood(undefined, { anything: 1 })).toEqual({ anything: 1 })
  })
})
