import { ADMIN_ENDPOINTS } from '@parley/protocol'
import { createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { TEST_ADMIN_TOKEN } from './support/test-gateway.js'

/** The routes the gateway's app answers, as `METHOD path` (middleware, registered for every method, left out). */
function mountedRoutes(): Set<string> {
  const gateway = createGateway({
    config: parseConfig({ mcp: { enabled: true } }),
    audit: createMemoryAuditLog(),
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: 'silent' }),
  })
  return new Set(
    gateway.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path}`),
  )
}

describe('the admin endpoint table and the gateway', () => {
  it('mounts a route for every entry of ADMIN_ENDPOINTS', () => {
    const mounted = mountedRoutes()
    const missing = Object.entries(ADMIN_ENDPOINTS)
      .map(([name, endpoint]) => [name, `${endpoint.method} ${endpoint.path}`] as const)
      .filter(([, route]) => !mounted.has(route))
    expect(missing).toEqual([])
  })

  it('answers no admin route that is not in the table', () => {
    const listed = new Set(
      Object.values(ADMIN_ENDPOINTS).map((endpoint) => `${endpoint.method} ${endpoint.path}`),
    )
    const unlisted = [...mountedRoutes()].filter(
      (route) => route.includes(' /api/admin/') && !listed.has(route),
    )
    expect(unlisted).toEqual([])
  })
})
