import { ChannelRegistry, type Subscriber, type SubscribeOutcome } from '../channels/channel-registry.js'

export interface ChannelRegistryObserver<S> {
  /** A subscriber became live on a channel (not called when it already was). */
  subscribed(channel: string, subscriber: S): void
  /** Every subscription of the subscriber is about to be dropped (close, reap, slow consumer). */
  unsubscribingAll(subscriber: S): void
}

/**
 * The channel table with hooks for presence and session resume: they learn of subscriptions without the
 * channel streams knowing about them.
 */
export class ObservedChannelRegistry<S extends Subscriber> extends ChannelRegistry<S> {
  readonly #observer: () => ChannelRegistryObserver<S> | undefined

  constructor(observer: () => ChannelRegistryObserver<S> | undefined, options: { maxIdleChannels?: number } = {}) {
    super(options)
    this.#observer = observer
  }

  override subscribe(channel: string, subscriber: S, maxSubscriptions: number): SubscribeOutcome {
    const outcome = super.subscribe(channel, subscriber, maxSubscriptions)
    if (outcome === 'subscribed') this.#observer()?.subscribed(channel, subscriber)
    return outcome
  }

  override unsubscribeAll(subscriber: S): void {
    if (subscriber.subscriptions.size > 0) this.#observer()?.unsubscribingAll(subscriber)
    super.unsubscribeAll(subscriber)
  }
}
