import { ADMIN_ENDPOINTS } from '@parley/protocol'
import { GATEWAY_ENDPOINTS } from './gateway-endpoints.js'
import { routeOf } from './http-endpoint.js'

export interface RouteCoverage {
  /** Routes the app answers that no endpoint table describes (`METHOD /pattern`). */
  undocumented: string[]
  /** Described endpoints no route of the app serves. */
  unserved: string[]
}

/**
 * Compares the routes an app answers (Hono's `app.routes`) with the two endpoint tables the OpenAPI document
 * is built from. Middleware (`app.use`: method `ALL` on a wildcard path) is left out; a route for every method
 * on a plain path (`app.all('/x')`) counts, and is always undocumented: the tables name their methods.
 */
export function routeCoverage(routes: ReadonlyArray<{ method: string; path: string }>): RouteCoverage {
  const isMiddleware = (route: { method: string; path: string }) =>
    route.method === 'ALL' && route.path.includes('*')
  const served = new Set(routes.filter((route) => !isMiddleware(route)).map((r) => `${r.method} ${r.path}`))
  const described = new Set([
    ...Object.values(ADMIN_ENDPOINTS).map((endpoint) => `${endpoint.method} ${endpoint.path}`),
    ...Object.values(GATEWAY_ENDPOINTS).map((endpoint) => `${endpoint.method} ${routeOf(endpoint)}`),
  ])
  return {
    undocumented: [...served].filter((route) => !described.has(route)).sort(),
    unserved: [...described].filter((route) => !served.has(route)).sort(),
  }
}
