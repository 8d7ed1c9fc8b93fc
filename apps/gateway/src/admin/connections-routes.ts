import type { ConnectionInfo, ConnectionList } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/connections`: every open connection on this node. */
export function registerConnectionsRoutes(app: GatewayApp, deps: { list: () => ConnectionInfo[] }): void {
  app.get('/api/admin/connections', (c) => {
    const body: ConnectionList = { connections: deps.list() }
    return c.json(body)
  })
}
