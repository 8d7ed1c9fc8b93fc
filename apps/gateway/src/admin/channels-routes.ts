import type { ChannelInfo } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { type DurableSubscriptions, durableByChannel } from './durable-subscriptions.js'

export interface ChannelsRouteDeps {
  /** The channels this node knows, with their live subscribers here. */
  list: () => Omit<ChannelInfo, 'durableSubscribers'>[]
  durable: DurableSubscriptions
}

/**
 * `GET /api/admin/channels`: channels with their subscribers (live ones on this node plus durable ones, which
 * are also counted apart) and messages published since start. A channel only durable subscribers know is
 * listed too.
 */
export function registerChannelsRoutes(app: GatewayApp, deps: ChannelsRouteDeps): void {
  mountAdminRoutes(app, {
    channels: async () => {
      const durable = durableByChannel(await deps.durable())
      const channels: ChannelInfo[] = deps.list().map((channel) => {
        const durableSubscribers = durable.get(channel.name) ?? 0
        durable.delete(channel.name)
        return { ...channel, subscribers: channel.subscribers + durableSubscribers, durableSubscribers }
      })
      for (const [name, durableSubscribers] of durable) {
        channels.push({
          name,
          subscribers: durableSubscribers,
          durableSubscribers,
          messages: 0,
          lastMessageAt: null,
        })
      }
      return { channels: channels.sort((a, b) => a.name.localeCompare(b.name)) }
    },
  })
}
