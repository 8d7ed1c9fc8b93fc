import { afterEach, describe, expect, it, vi } from 'vitest'
import { browserApi } from './browser-api'

afterEach(() => {
  vi.unstubAllGlobals()
})

function answering(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status }))
  vi.stubGlobal('fetch', fetch)
  return fetch
}

describe('browserApi', () => {
  it('takes the proxy’s { ok: true } for a deletion the gateway answered with 204, and names what it removed', async () => {
    const fetch = answering(200, { ok: true })
    expect(await browserApi.deletePolicyRule('rule-1')).toEqual({
      ok: true,
      data: { id: 'rule-1', deleted: true },
    })
    expect(fetch).toHaveBeenCalledWith(
      '/api/gw/policies/rule-1',
      expect.objectContaining({ method: 'DELETE' }),
    )
  })

  it('passes on the failure the proxy reports for a deletion', async () => {
    const failure = { kind: 'http', status: 404, code: 'not_found', message: 'no such rule' }
    answering(404, { ok: false, failure })
    expect(await browserApi.deletePolicyRule('rule-1')).toEqual({ ok: false, failure })
  })

  it('refuses an answer that is not a result as the dashboard being unreachable', async () => {
    answering(200, { something: 'else' })
    const result = await browserApi.deletePolicyRule('rule-1')
    expect(result.ok).toBe(false)
    expect(result.ok ? undefined : result.failure.kind).toBe('dashboard_unreachable')
  })
})
