import {
  ADMIN_ENDPOINTS,
  type AdminEndpoint,
  type AdminEndpointName,
  matchPath,
} from '@parley/protocol/admin'

/** Prefix of the dashboard's proxy to the gateway: `/api/gw/<path>` stands for `/api/admin/<path>`. */
export const GATEWAY_ROUTES_PREFIX = '/api/gw'

const ADMIN_PREFIX = '/api/admin'

/** The proxy path of a gateway path (`/api/admin/tokens` → `/api/gw/tokens`, `/health` → `/api/gw/health`). */
export function proxyPathOf(gatewayPath: string): string {
  const rest = gatewayPath.startsWith(`${ADMIN_PREFIX}/`)
    ? gatewayPath.slice(ADMIN_PREFIX.length)
    : gatewayPath
  return `${GATEWAY_ROUTES_PREFIX}${rest}`
}

export interface ProxiedEndpoint {
  name: AdminEndpointName
  endpoint: AdminEndpoint
  /** Decoded path parameters. */
  params: Record<string, string>
}

/**
 * The table entry a proxy request stands for: the first with this method whose proxy path matches
 * (the table's order, as on the gateway). Undefined for anything not in the table.
 */
export function findProxiedEndpoint(method: string, pathname: string): ProxiedEndpoint | undefined {
  for (const [name, endpoint] of Object.entries(ADMIN_ENDPOINTS) as [AdminEndpointName, AdminEndpoint][]) {
    if (endpoint.method !== method) continue
    const params = matchPath(proxyPathOf(endpoint.path), pathname)
    if (params !== undefined) return { name, endpoint, params }
  }
  return undefined
}
