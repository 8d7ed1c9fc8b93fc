import type { ConnectionInfo, ConnectionList, PairingConnectionInfo } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { type DurableSubscriptions, durableByRecipient } from './durable-subscriptions.js'

export interface ConnectionsRouteDeps {
  /** The open connections of this node. */
  open: () => ConnectionInfo[]
  /** Its connections of devices waiting for the operator to approve their pairing request. */
  pairing: () => PairingConnectionInfo[]
  /** Every connection it holds, in any state: the number `/health` answers. */
  total: () => number
  durable: DurableSubscriptions
}

/**
 * `GET /api/admin/connections`: every open connection on this node with its live and durable subscriptions,
 * the devices waiting for pairing, and the total `/health` counts.
 */
export function registerConnectionsRoutes(app: GatewayApp, deps: ConnectionsRouteDeps): void {
  mountAdminRoutes(app, {
    connections: async (): Promise<ConnectionList> => {
      const durable = durableByRecipient(await deps.durable())
      const connections = deps.open().map((connection) => {
        const channels = durable.get(connection.clientId) ?? []
        return {
          ...connection,
          subscriptions: [...new Set([...connection.subscriptions, ...channels])].sort(),
          durableSubscriptions: channels,
        }
      })
      return { connections, pairing: deps.pairing(), total: deps.total() }
    },
  })
}
