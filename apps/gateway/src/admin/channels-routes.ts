import type { ChannelInfo, ChannelList } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/channels`: channels with their subscribers and messages published since start. */
export function registerChannelsRoutes(app: GatewayApp, deps: { list: () => ChannelInfo[] }): void {
  app.get('/api/admin/channels', (c) => {
    const body: ChannelList = { channels: deps.list() }
    return c.json(body)
  })
}
