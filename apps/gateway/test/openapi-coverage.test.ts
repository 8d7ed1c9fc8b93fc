import { createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { routeCoverage } from '../src/openapi/route-coverage.js'
import { TEST_ADMIN_TOKEN } from './support/test-gateway.js'

/** The gateway's app with every optional face on (the set `pnpm check` looks at, in scripts/check-api.ts). */
function gatewayApp() {
  return createGateway({
    config: parseConfig({ mcp: { enabled: true }, polling: { enabled: true } }),
    audit: createMemoryAuditLog(),
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: 'silent' }),
  }).app
}

describe('the routes and the OpenAPI endpoint tables', () => {
  it('describe each other exactly: no route without an entry, no entry without a route', () => {
    expect(routeCoverage(gatewayApp().routes)).toEqual({ undocumented: [], unserved: [] })
  })

  it('report a route added without an entry, whatever its method or place', () => {
    const app = gatewayApp()
    app.get('/api/admin/charts', (c) => c.json({}))
    app.post('/hooks/:id', (c) => c.body(null, 204))
    app.all('/agent-map', (c) => c.json({}))
    expect(routeCoverage(app.routes).undocumented).toEqual([
      'ALL /agent-map',
      'GET /api/admin/charts',
      'POST /hooks/:id',
    ])
  })

  it('report an entry whose route is gone', () => {
    const routes = gatewayApp().routes.filter((route) => route.path !== '/metrics')
    expect(routeCoverage(routes).unserved).toEqual(['GET /metrics'])
  })
})
