import type { ConnectionInfo } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/connections`: every open connection on this node. */
export function registerConnectionsRoutes(app: GatewayApp, deps: { list: () => ConnectionInfo[] }): void {
  mountAdminRoutes(app, { connections: () => ({ connections: deps.list() }) })
}
