import {
  type ChannelMessageFrame,
  type SessionResumedFrame,
  type StreamPosition,
  type SubscribeFrame,
  SubscribeResult,
  UnsubscribeResult,
} from '@parley/protocol'
import { type DeliveryControls, NOT_A_DELIVERY, withControls } from './deliveries.js'
import { ParleyError } from './errors.js'
import { checkChannel, checkPosition, parseResult } from './input-checks.js'
import type { RequestBody } from './pending-requests.js'
import type {
  ChannelMessage,
  Logger,
  PushClientEvents,
  SubscribedInfo,
  SubscribeOptions,
  UnsubscribeReceipt,
} from './push-client-types.js'
import { Subscription } from './subscription.js'
import { afterPendingIo, timeoutTimer } from './timers.js'
import { inProcessSpan } from './trace-context.js'
import type { TypedEmitter } from './typed-emitter.js'
import type { WebSocketLike } from './websocket.js'

/** What the channel subscriptions need from the client that owns the connection. */
export interface ChannelHost {
  readonly emitter: TypedEmitter<PushClientEvents>
  readonly requestTimeoutMs: number
  /** The `clientId` option: a durable subscription needs an identity that survives restarts. */
  readonly stableClientId: string | undefined
  call(body: RequestBody): Promise<Record<string, unknown>>
  /** The current socket (undefined between two): tells one connection from the next. */
  currentSocket(): WebSocketLike | undefined
  isWelcomed(): boolean
  /** How long to wait before retrying a resubscribe after `failures` transient failures. */
  retryDelay(failures: number, retryAfterMs: number | undefined): number
  /** False when the message id was seen recently (for a gateway without stream positions). */
  firstSeen(key: string): boolean
  /** Hands a durable channel message to the delivery handling (run listeners once, then ack or nack). */
  deliver(fields: Omit<ChannelMessage, keyof DeliveryControls>, key: string, deliveryId: string): void
  log(level: keyof Logger, context: Record<string, unknown>, message: string): void
  reportError(error: ParleyError): void
}

type ResubscribeFailure = { channel: string; error: ParleyError } | undefined

/**
 * The client's channels, one `Subscription` each: subscribe and unsubscribe calls (the last one made wins),
 * stream positions and duplicate drops, recovery with `since`, resubscribes after every welcome and the
 * continuity check of the channels a resumed session restored.
 */
export class ChannelSubscriptions {
  private readonly byChannel = new Map<string, Subscription>()
  private callSeq = 0
  /** A resumed welcome waits for `session_resumed`: called with it (or undefined when it did not come). */
  private resumeWaiter: ((frame: SessionResumedFrame | undefined) => void) | undefined

  constructor(private readonly host: ChannelHost) {}

  /** The channels subscribed now and again after a reconnect, in the order they were subscribed. */
  names(): string[] {
    return [...this.byChannel.values()].filter((sub) => sub.wanted).map((sub) => sub.channel)
  }

  isSubscribed(channel: string): boolean {
    return this.byChannel.get(channel)?.wanted === true
  }

  positionOf(channel: string): StreamPosition | undefined {
    const position = this.byChannel.get(channel)?.position
    return position === undefined ? undefined : { ...position }
  }

  async subscribe(channel: string, options: SubscribeOptions): Promise<SubscribedInfo> {
    checkChannel(channel)
    const durable = options.durable === true
    // A gateway-assigned id changes with every restart of this process, and the durable cursor with it.
    if (durable && this.host.stableClientId === undefined) {
      throw new ParleyError({
        code: 'bad_request',
        message: 'a durable subscription needs a stable identity: pass the clientId option',
      })
    }
    const since = options.since === undefined ? undefined : checkPosition(options.since)
    const existing = this.byChannel.get(channel)
    // Already subscribed alike (or to be re-subscribed on reconnect): asking again would change nothing.
    if (existing?.wanted === true && existing.durable === durable && since === undefined) {
      return this.subscribedInfo(channel, durable, false, {})
    }
    const call = this.beginCall(channel)
    try {
      // An unsubscribe made while this was in flight went out after it and wins.
      const stillWanted = (): boolean => this.byChannel.get(channel)?.latestCall === call
      return await this.subscribeRequest(channel, durable, since, stillWanted)
    } finally {
      this.endCall(channel, call)
    }
  }

  async unsubscribe(channel: string): Promise<UnsubscribeReceipt> {
    checkChannel(channel)
    const call = this.beginCall(channel)
    try {
      // Forget it first, so a reconnect racing with this request does not subscribe it again.
      const sub = this.entry(channel)
      const wasSubscribed = sub.wanted
      sub.wanted = false
      sub.position = undefined
      // Before the welcome the gateway holds no subscription for us; forgetting it is all there is to do. After
      // it (re-subscribes in flight included) the gateway must be told.
      if (!this.host.isWelcomed() && wasSubscribed) return { channel }
      const result = await this.host.call({ type: 'unsubscribe', channel })
      return parseResult(UnsubscribeResult, result, 'unsubscribe')
    } finally {
      this.endCall(channel, call)
    }
  }

  /**
   * After a welcome: every channel subscribed again (but those a resumed session restored without a gap).
   * Resolves once all answered, with what reports the failures if the connection is still the same then.
   */
  restore(resumed: boolean): Promise<() => void> {
    const socket = this.host.currentSocket()
    for (const sub of [...this.byChannel.values()]) {
      sub.resumeCheck = undefined
      this.release(sub)
    }
    const restoring = resumed ? this.awaitSessionResumed() : Promise.resolve([])
    const resubscribes = restoring.then((restored) =>
      Promise.all(
        this.names()
          .filter((channel) => !restored.includes(channel))
          .map(
            (channel): Promise<ResubscribeFailure> =>
              this.resubscribe(channel).then(
                () => {
                  this.endResumeCheck(channel, socket)
                  return undefined
                },
                (error: ParleyError) => {
                  this.endResumeCheck(channel, socket)
                  return { channel, error }
                },
              ),
          ),
      ),
    )
    return resubscribes.then((failures) => () => {
      for (const failure of failures) {
        if (failure !== undefined) this.resubscribeFailed(failure.channel, failure.error, 1)
      }
    })
  }

  sessionResumed(frame: SessionResumedFrame): void {
    this.resumeWaiter?.(frame)
  }

  /** The connection is over: resubscribe retries meant for it are dropped. */
  stopRetries(): void {
    for (const sub of [...this.byChannel.values()]) {
      if (sub.retryTimer === undefined) continue
      clearTimeout(sub.retryTimer)
      sub.retryTimer = undefined
      this.release(sub)
    }
  }

  handleMessage(frame: ChannelMessageFrame): void {
    const { type: _type, ...fields } = frame
    const { channel, offset, epoch, deliveryId } = fields
    const sub = this.byChannel.get(channel)
    if (deliveryId !== undefined) {
      // A durable delivery: redeliveries and retries come out of stream order, so they are deduplicated by
      // message id, never by offset. The position only moves forward for `positionOf`.
      if (offset !== undefined && epoch !== undefined) sub?.moveForward({ offset, epoch })
      this.host.deliver(fields, `channel\u0000${channel}\u0000${fields.id}`, deliveryId)
      return
    }
    if (offset !== undefined && epoch !== undefined) {
      if (sub?.pastResumeGap({ offset, epoch }) === true) return
      const log = (level: 'debug' | 'warn', context: Record<string, unknown>, message: string): void =>
        this.host.log(level, context, message)
      if (sub !== undefined && !sub.advance({ offset, epoch }, log)) return
    } else if (!this.host.firstSeen(`${channel}\u0000${fields.id}`)) {
      // A gateway without stream positions: fall back to the recent message ids.
      return
    }
    const message: Omit<ChannelMessage, keyof DeliveryControls> =
      sub?.recovery !== undefined ? { ...fields, replayed: true } : fields
    inProcessSpan(fields, channel, () =>
      this.host.emitter.emit('channel_message', withControls(message, NOT_A_DELIVERY)),
    )
  }

  // ------------------------------------------------------------------ subscribe requests

  /**
   * One `subscribe` request: tracks replays and the position, and reports the outcome. The channel is
   * recorded as subscribed as soon as the reply is read, before any later frame is handled.
   */
  private async subscribeRequest(
    channel: string,
    durable: boolean,
    since: StreamPosition | undefined,
    stillWanted: () => boolean,
  ): Promise<SubscribedInfo> {
    const body: Omit<SubscribeFrame, 'id'> = { type: 'subscribe', channel }
    if (since !== undefined) body.since = since
    if (durable) body.durable = true
    const marker = {}
    if (since !== undefined) {
      const sub = this.entry(channel)
      sub.recovery = marker
      // Replays continue from `since`, whatever was seen before.
      sub.position = since
    }
    let result: Record<string, unknown>
    try {
      result = await this.host.call(body)
    } finally {
      // Looked up again, as after every wait: an unsubscribe meanwhile may have replaced the subscription.
      const sub = this.byChannel.get(channel)
      if (sub !== undefined && sub.recovery === marker) {
        sub.recovery = undefined
        this.release(sub)
      }
    }
    const receipt = parseResult(SubscribeResult, result, 'subscribe')
    if (!stillWanted()) return this.subscribedInfo(channel, durable, since !== undefined, receipt)
    const sub = this.entry(channel)
    if (!sub.wanted) {
      // It joins the end of `subscriptions`, as a new subscription.
      this.byChannel.delete(channel)
      this.byChannel.set(channel, sub)
    }
    sub.wanted = true
    sub.durable = durable
    // Live frames read in the same chunk as the reply were handled before this continuation ran: they
    // may have moved the position past the reply's, which must not take it back.
    if (receipt.offset !== undefined && receipt.epoch !== undefined) {
      sub.moveForward({ offset: receipt.offset, epoch: receipt.epoch })
    }
    const info = this.subscribedInfo(channel, durable, since !== undefined, receipt)
    if (info.wasRecovering && !info.recovered) {
      this.host.log(
        'warn',
        { channel, since, offset: info.offset, epoch: info.epoch },
        'could not recover the messages missed on a channel; they are lost to this subscriber',
      )
    }
    this.host.emitter.emit('subscribed', info)
    return info
  }

  private subscribedInfo(
    channel: string,
    durable: boolean,
    wasRecovering: boolean,
    receipt: Partial<SubscribeResult>,
  ): SubscribedInfo {
    const position = this.byChannel.get(channel)?.position
    const info: SubscribedInfo = {
      channel,
      wasRecovering,
      recovered: wasRecovering && receipt.recovered === true,
      replayed: receipt.replayed ?? 0,
      durable: receipt.durable ?? durable,
    }
    const offset = receipt.offset ?? position?.offset
    const epoch = receipt.epoch ?? position?.epoch
    if (offset !== undefined) info.offset = offset
    if (epoch !== undefined) info.epoch = epoch
    return info
  }

  /**
   * The client's own subscribe of a channel it held before: durable ones as durable (the gateway kept their
   * cursor), the others from the last position seen, so the gateway replays what was missed meanwhile.
   */
  private resubscribe(channel: string): Promise<SubscribedInfo> {
    const sub = this.byChannel.get(channel)
    const durable = sub?.wanted === true && sub.durable
    const since = durable ? undefined : sub?.position
    return this.subscribeRequest(channel, durable, since, () => this.isSubscribed(channel))
  }

  /**
   * A refusal (forbidden, bad name) will not change on its own: the channel is dropped. A transient failure
   * (rate limit, timeout) is retried on the same connection with backoff, so the channel does not stay in
   * `subscriptions` without being subscribed until some later reconnect. So is `conflict`: on a re-subscribe
   * it means the gateway is still setting up an earlier re-subscribe of this channel on this connection, one
   * whose reply the client stopped waiting for (a timeout while the gateway was busy, e.g. with a reconnect
   * herd); that one will complete, and giving the channel up would silently end the application's
   * subscription.
   */
  private resubscribeFailed(channel: string, error: ParleyError, failures: number): void {
    const socket = this.host.currentSocket()
    const sub = this.byChannel.get(channel)
    if (socket === undefined || !this.host.isWelcomed() || sub?.wanted !== true) return
    const retryable = error.retryable || error.code === 'conflict'
    if (!retryable) sub.wanted = false
    this.host.reportError(
      new ParleyError({
        code: error.code,
        message: `re-subscribing to "${channel}" failed: ${error.message}`,
        retryable,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      }),
    )
    if (!retryable) {
      this.release(sub)
      return
    }
    sub.retryTimer = setTimeout(
      () => {
        sub.retryTimer = undefined
        if (this.host.currentSocket() !== socket || !sub.wanted) {
          this.release(sub)
          return
        }
        this.resubscribe(channel).catch((retryError: ParleyError) => {
          if (this.host.currentSocket() === socket) this.resubscribeFailed(channel, retryError, failures + 1)
        })
      },
      this.host.retryDelay(failures, error.retryAfterMs),
    )
  }

  // ------------------------------------------------------------------ session resume

  /**
   * After a resumed welcome: resolves with the channels the gateway restored and that continue without a
   * gap, once `session_resumed` arrived (or with none if it does not come within the request timeout, so
   * every channel is resubscribed from its position as after any reconnect).
   */
  private awaitSessionResumed(): Promise<string[]> {
    for (const sub of this.byChannel.values()) {
      if (sub.wanted && !sub.durable && sub.position !== undefined) sub.resumeCheck = { gap: false }
    }
    return new Promise<SessionResumedFrame | undefined>((resolve) => {
      const timer = timeoutTimer(this.host.requestTimeoutMs, () =>
        afterPendingIo(() => {
          if (this.resumeWaiter !== waiter) return
          this.resumeWaiter = undefined
          resolve(undefined)
        }),
      )
      const waiter = (frame: SessionResumedFrame | undefined): void => {
        clearTimeout(timer)
        this.resumeWaiter = undefined
        resolve(frame)
      }
      this.resumeWaiter = waiter
    }).then((frame) => (frame === undefined ? [] : this.continueRestored(frame)))
  }

  /** The restored channels whose stream continues from this client's own position; reports them. */
  private continueRestored(frame: SessionResumedFrame): string[] {
    const continuing: string[] = []
    for (const restored of frame.subscriptions) {
      const { channel } = restored
      const sub = this.byChannel.get(channel)
      if (sub?.wanted !== true) {
        // Given up while disconnected: the gateway restored it all the same.
        this.unsubscribeRestored(channel)
        continue
      }
      const current = sub.position
      const ahead =
        current !== undefined && current.epoch === restored.epoch && restored.offset > current.offset
      if (sub.resumeCheck?.gap === true || ahead || !restored.recovered) continue
      sub.moveForward({ offset: restored.offset, epoch: restored.epoch })
      sub.resumeCheck = undefined
      continuing.push(channel)
    }
    const { type: _type, ...resumedInfo } = frame
    this.host.emitter.emit('session_resumed', resumedInfo)
    // Restored channels report their recovery like the client's own resubscribes do.
    for (const restored of frame.subscriptions) {
      if (!continuing.includes(restored.channel)) continue
      this.host.emitter.emit('subscribed', {
        channel: restored.channel,
        wasRecovering: true,
        recovered: true,
        replayed: restored.replayed,
        offset: restored.offset,
        epoch: restored.epoch,
        durable: false,
      })
    }
    return continuing
  }

  /**
   * The channel's own resubscribe was answered: from here its replay and live frames follow in order. Until
   * then, live frames still in flight from the restored subscription (past the gap) were dropped.
   */
  private endResumeCheck(channel: string, socket: WebSocketLike | undefined): void {
    if (this.host.currentSocket() !== socket) return
    const sub = this.byChannel.get(channel)
    if (sub === undefined) return
    sub.resumeCheck = undefined
    this.release(sub)
  }

  private unsubscribeRestored(channel: string): void {
    this.host.call({ type: 'unsubscribe', channel }).catch((error: ParleyError) => {
      this.host.log('debug', { channel, code: error.code }, 'unsubscribing a restored channel failed')
    })
  }

  // ------------------------------------------------------------------ registry

  private entry(channel: string): Subscription {
    let sub = this.byChannel.get(channel)
    if (sub === undefined) {
      sub = new Subscription(channel)
      this.byChannel.set(channel, sub)
    }
    return sub
  }

  /** Forgets a subscription that holds nothing any more, so channels given up do not pile up. */
  private release(sub: Subscription): void {
    if (sub.idle && this.byChannel.get(sub.channel) === sub) this.byChannel.delete(sub.channel)
  }

  private beginCall(channel: string): number {
    this.callSeq += 1
    this.entry(channel).latestCall = this.callSeq
    return this.callSeq
  }

  private endCall(channel: string, call: number): void {
    const sub = this.byChannel.get(channel)
    if (sub?.latestCall !== call) return
    sub.latestCall = undefined
    this.release(sub)
  }
}
