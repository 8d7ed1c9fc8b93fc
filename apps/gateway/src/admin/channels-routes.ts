import type { ChannelInfo } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/channels`: channels with their subscribers and messages published since start. */
export function registerChannelsRoutes(app: GatewayApp, deps: { list: () => ChannelInfo[] }): void {
  mountAdminRoutes(app, { channels: () => ({ channels: deps.list() }) })
}
