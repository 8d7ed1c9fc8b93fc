import type { NodeInfo, NodeList } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/nodes`: every gateway node on the bus (a lone node lists itself, bus `local`). */
export function registerNodesRoutes(app: GatewayApp, deps: { list: () => Promise<NodeInfo[]> }): void {
  app.get('/api/admin/nodes', async (c) => {
    const body: NodeList = { nodes: await deps.list() }
    return c.json(body)
  })
}
