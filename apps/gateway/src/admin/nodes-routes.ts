import type { NodeInfo } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/nodes`: every gateway node on the bus (a lone node lists itself, bus `local`). */
export function registerNodesRoutes(app: GatewayApp, deps: { list: () => Promise<NodeInfo[]> }): void {
  mountAdminRoutes(app, { nodes: async () => ({ nodes: await deps.list() }) })
}
