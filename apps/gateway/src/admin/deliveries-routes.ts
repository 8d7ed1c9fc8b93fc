import type { DeliveryStats } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/deliveries`: backend, queue sizes and the delivery counters since start. */
export function registerDeliveriesRoutes(
  app: GatewayApp,
  deps: { stats: () => Promise<DeliveryStats> },
): void {
  app.get('/api/admin/deliveries', async (c) => {
    const body: DeliveryStats = await deps.stats()
    return c.json(body)
  })
}
