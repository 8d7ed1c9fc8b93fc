import type { AdminPresenceList } from '@parley/protocol'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/presence`: every online client on every node, and the per-principal aggregate. */
export function registerPresenceRoutes(
  app: GatewayApp,
  deps: { list: (() => Promise<AdminPresenceList>) | undefined },
): void {
  app.get('/api/admin/presence', async (c) => {
    if (deps.list === undefined) throw new GatewayError('unavailable', 'presence is disabled')
    const body: AdminPresenceList = await deps.list()
    return c.json(body)
  })
}
