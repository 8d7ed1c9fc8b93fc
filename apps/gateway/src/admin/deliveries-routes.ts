import type { DeliveryStats } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/deliveries`: backend, queue sizes and the delivery counters since start. */
export function registerDeliveriesRoutes(
  app: GatewayApp,
  deps: { stats: () => Promise<DeliveryStats> },
): void {
  mountAdminRoutes(app, { deliveries: () => deps.stats() })
}
