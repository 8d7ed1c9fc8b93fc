import type { DeliveryStore, DurableSubscription } from '@parley/stores'

/** Durable subscriptions read per admin call, at most. */
export const DURABLE_SUBSCRIPTIONS_LISTED = 10_000

/** Every durable subscription (none when deliveries are off or the store is not open yet). */
export type DurableSubscriptions = () => Promise<DurableSubscription[]>

export function listDurableSubscriptions(deliveries: () => DeliveryStore | undefined): DurableSubscriptions {
  return async () => (await deliveries()?.listDurableSubscriptions(DURABLE_SUBSCRIPTIONS_LISTED)) ?? []
}

/** The channels of each client id, in byte order as listed. */
export function durableByRecipient(subscriptions: readonly DurableSubscription[]): Map<string, string[]> {
  const byRecipient = new Map<string, string[]>()
  for (const { recipient, channel } of subscriptions) {
    const channels = byRecipient.get(recipient)
    if (channels === undefined) byRecipient.set(recipient, [channel])
    else channels.push(channel)
  }
  return byRecipient
}

/** How many durable subscribers each channel has. */
export function durableByChannel(subscriptions: readonly DurableSubscription[]): Map<string, number> {
  const byChannel = new Map<string, number>()
  for (const { channel } of subscriptions) byChannel.set(channel, (byChannel.get(channel) ?? 0) + 1)
  return byChannel
}
