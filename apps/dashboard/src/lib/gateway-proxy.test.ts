import { ADMIN_ENDPOINTS, fillPath, pathParamNames } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { DASHBOARD, useStandInGateway } from '@/test-support/stand-in-gateway'
import { forwardToGateway } from './gateway-proxy'
import { findProxiedEndpoint, proxyPathOf } from './gateway-proxy-paths'

const ADMIN_TOKEN = 'proxy-test-token'

const gateway = useStandInGateway(({ path, authorization }): [number, unknown] => {
  if (authorization !== `Bearer ${ADMIN_TOKEN}`) {
    return [401, { error: { code: 'unauthorized', message: 'bad token', retryable: false } }]
  }
  if (path === '/api/admin/whoami') return [200, { role: 'admin' }]
  if (path === '/api/admin/channels') return [200, { channels: [] }]
  return [404, {}]
})

function sameOrigin(cookie: string): Record<string, string> {
  return { cookie, host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }
}

describe('the /api/gw proxy', () => {
  it('forwards a path of the table to the gateway', async () => {
    const cookie = await gateway.login(ADMIN_TOKEN)
    const answer = await forwardToGateway(
      new Request(`${DASHBOARD}/api/gw/channels`, { headers: { cookie } }),
    )
    expect(await answer.json()).toEqual({ ok: true, data: { channels: [] } })
    expect(gateway.seen.map((request) => request.path)).toEqual(['/api/admin/channels'])
  })

  it.each([
    ['GET', '/api/gw/secrets'],
    ['GET', '/api/gw/admin/channels'],
    ['POST', '/api/gw/channels'],
    ['DELETE', '/api/gw/tokens'],
    ['GET', '/api/gw/tokens/x/y'],
    ['GET', '/api/gw/../health'],
  ])(
    'refuses %s %s, not in the table, with a typed 404 and never calls the gateway',
    async (method, path) => {
      const cookie = await gateway.login(ADMIN_TOKEN)
      const answer = await forwardToGateway(
        new Request(`${DASHBOARD}${path}`, { method, headers: sameOrigin(cookie) }),
      )
      expect(answer.status).toBe(404)
      expect(await answer.json()).toMatchObject({
        ok: false,
        failure: { kind: 'http', status: 404, code: 'not_found' },
      })
      expect(gateway.seen).toEqual([])
    },
  )

  it('maps every entry of the table to one proxy path and back', () => {
    for (const [name, endpoint] of Object.entries(ADMIN_ENDPOINTS)) {
      const params = Object.fromEntries(pathParamNames(endpoint.path).map((param) => [param, `v ${param}`]))
      const proxied = proxyPathOf(fillPath(endpoint.path, params))
      expect(proxied.startsWith('/api/gw/'), name).toBe(true)
      expect(findProxiedEndpoint(endpoint.method, proxied)).toMatchObject({ name, params })
    }
  })
})
