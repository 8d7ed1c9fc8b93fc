import type { GatewayApp } from '../http/create-app.js'
import type { TimeseriesCluster } from '../timeseries/timeseries-cluster.js'
import { mountAdminRoutes } from './admin-routes.js'

/**
 * `GET /api/admin/timeseries?range=15m|24h&metrics=a,b&agent=|channel=`: the key figures of every node and of
 * the cluster over time (timeseries/). Schemas: `TimeseriesQuery` and `Timeseries` in the protocol.
 */
export function registerTimeseriesRoutes(app: GatewayApp, deps: { timeseries: TimeseriesCluster }): void {
  mountAdminRoutes(app, { timeseries: (_c, request) => deps.timeseries.read(request.query()) })
}
