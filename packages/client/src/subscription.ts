import type { StreamPosition } from '@parley/protocol'

export type SubscriptionLog = (
  level: 'debug' | 'warn',
  context: Record<string, unknown>,
  message: string,
) => void

/**
 * One channel as this client sees it, as centrifuge-js keeps a Subscription per channel: whether the user
 * wants it, where its stream stands, and the recovery under way. `ChannelSubscriptions` keeps one per channel
 * for as long as any of this matters.
 */
export class Subscription {
  /** The user subscribed and did not unsubscribe: it is subscribed again after every reconnect. */
  wanted = false
  durable = false
  /** The last stream position seen: drops duplicates, and is the `since` of every resubscribe. */
  position: StreamPosition | undefined
  /** Marks the subscribe with `since` in flight: the `channel_message` frames before its reply are replays. */
  recovery: object | undefined
  /**
   * The latest subscribe / unsubscribe call while one is in flight. A reply only changes `wanted` when no
   * later call was made, so the last call wins whatever the reply order.
   */
  latestCall: number | undefined
  /**
   * Set while a resumed session's stream is checked for continuity: a message past a gap (the gateway believed
   * more was seen than arrived) is dropped, and the channel resubscribed from its position.
   */
  resumeCheck: { gap: boolean } | undefined
  /** A resubscribe waiting to be retried on the current connection after a transient failure. */
  retryTimer: ReturnType<typeof setTimeout> | undefined

  constructor(readonly channel: string) {}

  /** Whether its position is worth keeping: subscribed, or with a subscribe or unsubscribe in flight. */
  get tracked(): boolean {
    return this.wanted || this.latestCall !== undefined
  }

  /** Nothing left to remember: the registry forgets it. */
  get idle(): boolean {
    return (
      !this.wanted &&
      this.position === undefined &&
      this.recovery === undefined &&
      this.latestCall === undefined &&
      this.resumeCheck === undefined &&
      this.retryTimer === undefined
    )
  }

  /** Moves the position forward only, when it is worth keeping (for a live message or a reply). */
  moveForward(position: StreamPosition): void {
    const last = this.position
    if (last?.epoch !== position.epoch || position.offset > last.offset) {
      if (this.tracked) this.position = position
    }
  }

  /**
   * While a resumed session is checked: true for a message past a gap in the stream. It is dropped; the
   * channel is resubscribed from the last position seen, which replays it in order.
   */
  pastResumeGap(position: StreamPosition): boolean {
    const check = this.resumeCheck
    if (check === undefined) return false
    const last = this.position
    if (last === undefined || last.epoch !== position.epoch || position.offset <= last.offset + 1)
      return false
    check.gap = true
    return true
  }

  /** Moves the position to a live message's; false when the message is a duplicate. */
  advance(position: StreamPosition, log: SubscriptionLog): boolean {
    const last = this.position
    if (last !== undefined && last.epoch === position.epoch) {
      if (position.offset <= last.offset) {
        log(
          'debug',
          { channel: this.channel, offset: position.offset, last: last.offset },
          'dropped a duplicate message',
        )
        return false
      }
      if (position.offset > last.offset + 1) {
        log(
          'warn',
          { channel: this.channel, from: last.offset, to: position.offset },
          'gap in a channel stream',
        )
      }
    } else if (last !== undefined) {
      // The gateway lost the stream's history (a restart without persistence): its offsets start over.
      log(
        'warn',
        { channel: this.channel, from: last.epoch, to: position.epoch },
        'channel stream epoch changed',
      )
    }
    if (this.tracked) this.position = position
    return true
  }
}
