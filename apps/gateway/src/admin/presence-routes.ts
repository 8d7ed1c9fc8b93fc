import type { AdminPresenceList } from '@parley/protocol'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/presence`: every online client on every node, and the per-principal aggregate. */
export function registerPresenceRoutes(
  app: GatewayApp,
  deps: { list: (() => Promise<AdminPresenceList>) | undefined },
): void {
  mountAdminRoutes(app, {
    presence: () => {
      if (deps.list === undefined) throw new GatewayError('unavailable', 'presence is disabled')
      return deps.list()
    },
  })
}
