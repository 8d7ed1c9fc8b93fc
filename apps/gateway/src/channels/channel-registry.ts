import type { ChannelInfo } from '@parley/protocol'

/** What fan-out needs from a subscriber. */
export interface Subscriber {
  readonly subscriptions: Set<string>
  send(frame: string | Buffer): boolean
}

/** A position in a channel's stream (see the history store). */
export interface ChannelPosition {
  offset: number
  epoch: string
}

interface ChannelState<S extends Subscriber> {
  readonly subscribers: Set<S>
  messages: number
  lastMessageAt: number | null
  /** Offset and epoch of the last publication fanned out here, when known. */
  position: ChannelPosition | undefined
}

const EMPTY: ReadonlySet<never> = new Set()

/** Channels kept for their statistics after their last subscriber left; older idle ones are forgotten. */
const DEFAULT_MAX_IDLE_CHANNELS = 10_000

export type SubscribeOutcome = 'subscribed' | 'already_subscribed' | 'limit_reached'

/**
 * The local channel table: who is subscribed to what, and per-channel counters for the admin API.
 * Subscriptions are mirrored on the subscriber so a disconnect can remove them without scanning every channel.
 */
export class ChannelRegistry<S extends Subscriber = Subscriber> {
  readonly #channels = new Map<string, ChannelState<S>>()
  /** Channels without subscribers, oldest first. */
  readonly #idle = new Set<string>()
  readonly #maxIdleChannels: number
  readonly #onFirstSubscriber: ((channel: string) => void) | undefined
  readonly #onLastSubscriber: ((channel: string) => void) | undefined
  #beforePublish: ((channel: string) => void) | undefined

  /**
   * `onFirstSubscriber` / `onLastSubscriber`: a channel gained its first subscriber here, or lost its last
   * (the cluster listens to a channel on the bus only in between).
   */
  constructor(
    options: {
      maxIdleChannels?: number
      onFirstSubscriber?: (channel: string) => void
      onLastSubscriber?: (channel: string) => void
    } = {},
  ) {
    this.#maxIdleChannels = options.maxIdleChannels ?? DEFAULT_MAX_IDLE_CHANNELS
    this.#onFirstSubscriber = options.onFirstSubscriber
    this.#onLastSubscriber = options.onLastSubscriber
  }

  subscribe(channel: string, subscriber: S, maxSubscriptions: number): SubscribeOutcome {
    if (subscriber.subscriptions.has(channel)) return 'already_subscribed'
    if (subscriber.subscriptions.size >= maxSubscriptions) return 'limit_reached'
    const { subscribers } = this.#stateOf(channel)
    subscribers.add(subscriber)
    this.#idle.delete(channel)
    subscriber.subscriptions.add(channel)
    if (subscribers.size === 1) this.#onFirstSubscriber?.(channel)
    return 'subscribed'
  }

  /** Returns whether the subscriber was subscribed. */
  unsubscribe(channel: string, subscriber: S): boolean {
    if (!subscriber.subscriptions.delete(channel)) return false
    const state = this.#channels.get(channel)
    state?.subscribers.delete(subscriber)
    if (state?.subscribers.size === 0) this.#lastLeft(channel)
    return true
  }

  unsubscribeAll(subscriber: S): void {
    for (const channel of subscriber.subscriptions) {
      const state = this.#channels.get(channel)
      if (state?.subscribers.delete(subscriber) && state.subscribers.size === 0) this.#lastLeft(channel)
    }
    subscriber.subscriptions.clear()
  }

  /**
   * `listener` runs before each publication reaches a channel's subscribers (presence sends the frames it
   * holds for the channel then, so they share the publication's socket write). One listener; a later call
   * replaces it.
   */
  beforePublish(listener: (channel: string) => void): void {
    this.#beforePublish = listener
  }

  /**
   * Sends one encoded frame to every subscriber and returns how many took it. `position` is the
   * publication's place in the channel stream: a later live subscriber continues from there.
   */
  publish(channel: string, frame: string | Buffer, now: number, position?: ChannelPosition): number {
    const state = this.#stateOf(channel)
    state.messages += 1
    state.lastMessageAt = now
    if (position !== undefined) state.position = position
    let delivered = 0
    if (state.subscribers.size > 0) this.#beforePublish?.(channel)
    for (const subscriber of state.subscribers) {
      if (subscriber.send(frame)) delivered += 1
    }
    if (state.subscribers.size === 0) this.#markIdle(channel)
    return delivered
  }

  /**
   * The position of the last publication fanned out on the channel: exactly where a subscriber added now
   * continues from. Undefined when this table does not know (nothing fanned out since start, or forgotten).
   */
  positionOf(channel: string): ChannelPosition | undefined {
    return this.#channels.get(channel)?.position
  }

  /**
   * Forgets the channel's position: another node may publish on it while this one does not listen, so the
   * position known here would go stale.
   */
  forgetPosition(channel: string): void {
    const state = this.#channels.get(channel)
    if (state !== undefined) state.position = undefined
  }

  /** Records a position learnt from the store, unless a fan-out already recorded one. */
  notePosition(channel: string, position: ChannelPosition): void {
    const state = this.#stateOf(channel)
    if (state.position === undefined) state.position = position
    if (state.subscribers.size === 0) this.#markIdle(channel)
  }

  /** The live subscribers of a channel (presence events go to them). */
  subscribersOf(channel: string): ReadonlySet<S> {
    return this.#channels.get(channel)?.subscribers ?? EMPTY
  }

  subscriberCount(channel: string): number {
    return this.#channels.get(channel)?.subscribers.size ?? 0
  }

  /** Channels with at least one subscriber (idle ones kept only for their counters are not counted). */
  get size(): number {
    return this.#channels.size - this.#idle.size
  }

  /** Each channel's publications fanned out here and its live subscribers, without building a list. */
  forEachChannel(visit: (name: string, messages: number, subscribers: number) => void): void {
    for (const [name, state] of this.#channels) visit(name, state.messages, state.subscribers.size)
  }

  list(): Omit<ChannelInfo, 'durableSubscribers'>[] {
    return [...this.#channels.entries()]
      .map(([name, state]) => ({
        name,
        subscribers: state.subscribers.size,
        messages: state.messages,
        lastMessageAt: state.lastMessageAt === null ? null : new Date(state.lastMessageAt).toISOString(),
      }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  #stateOf(channel: string): ChannelState<S> {
    let state = this.#channels.get(channel)
    if (state === undefined) {
      state = { subscribers: new Set(), messages: 0, lastMessageAt: null, position: undefined }
      this.#channels.set(channel, state)
    }
    return state
  }

  #lastLeft(channel: string): void {
    this.#markIdle(channel)
    this.#onLastSubscriber?.(channel)
  }

  /** Keeps memory bounded when clients publish to or leave many channels: forgets the oldest idle ones. */
  #markIdle(channel: string): void {
    this.#idle.delete(channel)
    this.#idle.add(channel)
    for (const name of this.#idle) {
      if (this.#idle.size <= this.#maxIdleChannels) return
      this.#idle.delete(name)
      this.#channels.delete(name)
    }
  }
}
