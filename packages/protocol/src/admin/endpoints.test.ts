import { describe, expect, it } from 'vitest'
import { fillPath, findEndpoint, matchPath, NoContent, pathParamNames } from './endpoint-table.js'
import { ADMIN_ENDPOINTS } from './endpoints.js'

const entries = Object.entries(ADMIN_ENDPOINTS)

describe('the admin endpoint table', () => {
  it('names each method and path once', () => {
    const keys = entries.map(([, endpoint]) => `${endpoint.method} ${endpoint.path}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('keeps every endpoint but /health under /api/admin', () => {
    const outside = entries.filter(([, endpoint]) => !endpoint.path.startsWith('/api/admin/'))
    expect(outside.map(([name]) => name)).toEqual(['health'])
  })

  it('names the subject of every query and body, for the refusal message', () => {
    for (const [name, endpoint] of entries) {
      if ('query' in endpoint || 'body' in endpoint) expect(endpoint, name).toHaveProperty('subject')
    }
  })

  it('answers 204 exactly where the answer is NoContent, and only GETs read a query or no body', () => {
    for (const [name, endpoint] of entries) {
      const status = 'status' in endpoint ? endpoint.status : 200
      expect(status === 204, name).toBe(endpoint.response === NoContent)
      if ('body' in endpoint) expect(endpoint.method, name).not.toBe('GET')
    }
  })

  it('finds every entry by its own filled-in path', () => {
    for (const [name, endpoint] of entries) {
      const params = Object.fromEntries(pathParamNames(endpoint.path).map((param) => [param, `a b/${param}`]))
      const found = findEndpoint(ADMIN_ENDPOINTS, endpoint.method, fillPath(endpoint.path, params))
      expect(found?.name, name).toBe(name)
      expect(found?.params).toEqual(params)
    }
  })

  it('takes the first entry where paths overlap, as the gateway does', () => {
    expect(findEndpoint(ADMIN_ENDPOINTS, 'DELETE', '/api/admin/sessions/current')?.name).toBe('endSession')
    expect(findEndpoint(ADMIN_ENDPOINTS, 'PUT', '/api/admin/policies/default')?.name).toBe('setPolicyDefault')
    expect(findEndpoint(ADMIN_ENDPOINTS, 'PATCH', '/api/admin/policies/default')).toMatchObject({
      name: 'updatePolicyRule',
      params: { id: 'default' },
    })
  })

  it('finds nothing for a path or method not in the table', () => {
    expect(findEndpoint(ADMIN_ENDPOINTS, 'GET', '/api/admin/secrets')).toBeUndefined()
    expect(findEndpoint(ADMIN_ENDPOINTS, 'POST', '/api/admin/connections')).toBeUndefined()
    expect(findEndpoint(ADMIN_ENDPOINTS, 'DELETE', '/api/admin/tokens/')).toBeUndefined()
    expect(findEndpoint(ADMIN_ENDPOINTS, 'DELETE', '/api/admin/tokens/a/b')).toBeUndefined()
  })
})

describe('path patterns', () => {
  it('encode each parameter as one segment and decode it back', () => {
    const path = fillPath('/x/:channelType/:senderId', { channelType: 'tg', senderId: 'a/b c' })
    expect(path).toBe('/x/tg/a%2Fb%20c')
    expect(matchPath('/x/:channelType/:senderId', path)).toEqual({ channelType: 'tg', senderId: 'a/b c' })
  })

  it('refuse a segment that does not decode', () => {
    expect(matchPath('/x/:id', '/x/%E0%A4%A')).toBeUndefined()
  })
})
