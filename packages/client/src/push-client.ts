import {
  BroadcastResult,
  ClientId,
  describeIssues,
  PairingCheckFrame,
  PairingCheckResult,
  PresenceListResult,
  PresenceSetResult,
  PresenceStatus,
  type PublishFrame,
  PublishResult,
  type SendFrame,
  SendResult,
  type ServerFrame,
  type StreamPosition,
} from '@parley/protocol'
import { ChannelSubscriptions } from './channel-subscriptions.js'
import { ClientConnection } from './client-connection.js'
import { DeliveryHandler } from './delivery-handler.js'
import { ParleyError, TimeoutError } from './errors.js'
import { checkChannel, checkData, checkIdempotencyKey, parseResult } from './input-checks.js'
import type {
  BroadcastReceipt,
  ChannelMessage,
  PairingCheckOptions,
  PairingCheckReceipt,
  PresenceList,
  PresenceStatusReceipt,
  PublishOptions,
  PublishReceipt,
  PushClientEvent,
  PushClientEvents,
  PushClientOptions,
  SendOptions,
  SendReceipt,
  SubscribeOptions,
  SubscribeReceipt,
  UnsubscribeReceipt,
  WaitForOptions,
  WelcomeInfo,
} from './push-client-types.js'
import { RecentIds } from './recent-ids.js'
import { noop } from './sockets.js'
import { timeoutTimer } from './timers.js'
import { outgoingTraceContext } from './trace-context.js'
import type { Listener } from './typed-emitter.js'

const DEFAULT_WAIT_FOR_TIMEOUT_MS = 30_000

/**
 * Parley's push client: one WebSocket to the gateway with channel subscriptions, publish and broadcast,
 * automatic reconnect with full-jitter backoff and automatic re-subscribe. Runs in browsers and Node 20+.
 * The connection itself (state machine, handshake, reconnects, requests) is `ClientConnection`; each channel's
 * state is a `Subscription` kept by `ChannelSubscriptions`.
 */
export class PushClient extends ClientConnection {
  private readonly channels: ChannelSubscriptions
  private readonly deliveries: DeliveryHandler
  private readonly seenMessages = new RecentIds()

  constructor(url: string, options: PushClientOptions = {}) {
    super(url, options)
    this.deliveries = new DeliveryHandler({
      emitter: this.emitter,
      ackMode: options.ackMode ?? 'auto',
      isWelcomed: () => this.isWelcomed,
      sendFrame: (frame) => this.sendFrame(frame),
      log: (level, context, message) => this.log(level, context, message),
      reportError: (error) => this.reportError(error),
    })
    this.channels = new ChannelSubscriptions({
      emitter: this.emitter,
      requestTimeoutMs: this.requestTimeoutMs,
      stableClientId: options.clientId,
      call: (body) => this.call(body),
      currentSocket: () => this.currentSocket,
      isWelcomed: () => this.isWelcomed,
      retryDelay: (failures, retryAfterMs) => this.retryDelay(failures, retryAfterMs),
      firstSeen: (key) => this.seenMessages.add(key),
      deliver: (fields, key, deliveryId) =>
        this.deliveries.handle('channel_message', fields, key, deliveryId),
      log: (level, context, message) => this.log(level, context, message),
      reportError: (error) => this.reportError(error),
    })
  }

  on<E extends PushClientEvent>(event: E, listener: Listener<PushClientEvents[E]>): this {
    this.emitter.on(event, listener)
    return this
  }

  off<E extends PushClientEvent>(event: E, listener: Listener<PushClientEvents[E]>): this {
    this.emitter.off(event, listener)
    return this
  }

  /** Channels that are subscribed now and will be subscribed again after a reconnect. */
  get subscriptions(): string[] {
    return this.channels.names()
  }

  /**
   * The last stream position seen on `channel` (from the subscribe reply and every message since). Keep it
   * to resume after a restart with `subscribe(channel, { since })`; reconnects use it on their own.
   */
  positionOf(channel: string): StreamPosition | undefined {
    return this.channels.positionOf(channel)
  }

  /**
   * Subscribes to `channel`; it is subscribed again after every reconnect, with `since` = the last position
   * seen, so nothing published meanwhile is missed (or the `subscribed` event says `recovered: false`).
   */
  subscribe(channel: string, options: SubscribeOptions = {}): Promise<SubscribeReceipt> {
    return this.channels.subscribe(channel, options)
  }

  unsubscribe(channel: string): Promise<UnsubscribeReceipt> {
    return this.channels.unsubscribe(channel)
  }

  /**
   * Resolves once the gateway stored the publication. When it rejects (timeout, lost connection) the
   * publication may or may not have happened: retry with the same `idempotencyKey` to make that safe.
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    checkChannel(channel)
    checkData(data)
    const body: Omit<PublishFrame, 'id'> = { type: 'publish', channel, data, ...outgoingTraceContext() }
    if (options.idempotencyKey !== undefined)
      body.idempotencyKey = checkIdempotencyKey(options.idempotencyKey)
    const result = await this.call(body)
    return parseResult(PublishResult, result, 'publish')
  }

  /**
   * Sends a direct message to the client id `to`, delivered at least once (it waits for the recipient while
   * it is offline, up to the gateway's message TTL). Resolves once the gateway stored it.
   */
  async send(to: string, data: unknown, options: SendOptions = {}): Promise<SendReceipt> {
    const recipient = ClientId.safeParse(to)
    if (!recipient.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid recipient ${JSON.stringify(to)}: ${recipient.error.issues[0]?.message ?? 'invalid'}`,
      })
    }
    checkData(data)
    const body: Omit<SendFrame, 'id'> = { type: 'send', to, data, ...outgoingTraceContext() }
    if (options.idempotencyKey !== undefined)
      body.idempotencyKey = checkIdempotencyKey(options.idempotencyKey)
    if (options.receipt === true) body.receipt = true
    const result = await this.call(body)
    return parseResult(SendResult, result, 'send')
  }

  async broadcast(data: unknown): Promise<BroadcastReceipt> {
    checkData(data)
    const result = await this.call({ type: 'broadcast', data })
    return parseResult(BroadcastResult, result, 'broadcast')
  }

  /**
   * For connectors (a `connector` token): may this chat sender talk to the agents? Resolves with the channel
   * type's verdict; `pending` carries the code to give the sender. Asking again for the same sender returns
   * the same code while it is live. The decision arrives later as a `pairing_resolved` event.
   */
  async pairingCheck(
    channelType: string,
    senderId: string,
    options: PairingCheckOptions = {},
  ): Promise<PairingCheckReceipt> {
    const body: Omit<PairingCheckFrame, 'id'> = { type: 'pairing_check', channelType, senderId }
    if (options.displayName !== undefined) body.displayName = options.displayName
    const parsed = PairingCheckFrame.omit({ id: true }).safeParse(body)
    if (!parsed.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid pairing check: ${describeIssues('pairing_check', parsed.error)}`,
      })
    }
    const result = await this.call(body)
    return parseResult(PairingCheckResult, result, 'pairing_check')
  }

  /** Sets this client's presence status (letters, digits, `_ - . :`) and metadata; subscribers see an `update`. */
  async setStatus(status: string, metadata?: Record<string, unknown>): Promise<PresenceStatusReceipt> {
    const parsed = PresenceStatus.safeParse(status)
    if (!parsed.success) {
      throw new ParleyError({
        code: 'bad_request',
        message: `invalid status ${JSON.stringify(status)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      })
    }
    checkData(metadata ?? {})
    const result = await this.call(
      metadata === undefined ? { type: 'presence_set', status } : { type: 'presence_set', status, metadata },
    )
    return parseResult(PresenceSetResult, result, 'presence_set')
  }

  /**
   * Who is online on every gateway node: everyone, or the subscribers of `channel` (which needs the subscribe
   * scope on it). Also emitted as `presence_list`.
   */
  async getPresence(channel?: string): Promise<PresenceList> {
    if (channel !== undefined) checkChannel(channel)
    const result = await this.call(
      channel === undefined ? { type: 'presence_get' } : { type: 'presence_get', channel },
    )
    const list = parseResult(PresenceListResult, result, 'presence_get')
    this.emitter.emit('presence_list', list)
    return list
  }

  /**
   * Resolves with the next message on `channel`, subscribing first when needed (the subscription stays).
   * Rejects with `TimeoutError` when none arrives within `timeout` ms.
   */
  waitFor(channel: string, options: WaitForOptions = {}): Promise<ChannelMessage> {
    const timeoutMs = options.timeout ?? DEFAULT_WAIT_FOR_TIMEOUT_MS
    if (this.state === 'disconnected' || this.state === 'closed') {
      return Promise.reject(
        new ParleyError({
          code: 'invalid_state',
          message: `cannot wait for messages while ${this.state}; call connect() first`,
        }),
      )
    }
    return new Promise<ChannelMessage>((resolve, reject) => {
      let settled = false
      const finish = (): void => {
        settled = true
        clearTimeout(timer)
        this.emitter.off('channel_message', listener)
        this.waiters.untilClosed.delete(fail)
      }
      const fail = (error: ParleyError): void => {
        if (settled) return
        finish()
        reject(error)
      }
      const listener = (message: ChannelMessage): void => {
        if (settled || message.channel !== channel) return
        finish()
        resolve(message)
      }
      const timer = timeoutTimer(timeoutMs, () => {
        fail(new TimeoutError(`no message on channel "${channel}" within ${timeoutMs} ms`))
      })
      this.waiters.untilClosed.add(fail)
      // Listen before subscribing so a message that arrives right after the subscribe reply is not missed.
      this.emitter.on('channel_message', listener)
      if (!this.channels.isSubscribed(channel)) {
        this.subscribe(channel).catch((error: ParleyError) => fail(error))
      }
    })
  }

  // ------------------------------------------------------------------ hooks

  /** Server frames PushClient does not handle itself (agent frames). */
  protected handleExtraFrame(_frame: ServerFrame): void {}

  /**
   * Runs after each `welcome` (reconnects included), in parallel with the resubscribes; the client becomes
   * `connected` (and `connect()` resolves) once both finished. A rejection is ignored: report it yourself.
   */
  protected afterWelcome(_info: WelcomeInfo): Promise<void> {
    return Promise.resolve()
  }

  protected override prepareConnection(info: WelcomeInfo, resumed: boolean): Promise<() => void> {
    const channelsRestored = this.channels.restore(resumed)
    return Promise.all([channelsRestored, this.afterWelcome(info).catch(noop)]).then(
      ([reportFailures]) => reportFailures,
    )
  }

  protected override connectionEnded(): void {
    this.channels.stopRetries()
    this.deliveries.dropQueuedAcks()
  }

  protected override handleMessageFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'channel_message':
        this.channels.handleMessage(frame)
        return
      case 'direct_message': {
        const { type: _type, ...fields } = frame
        this.deliveries.handle('direct_message', fields, `direct\u0000${fields.id}`, fields.deliveryId)
        return
      }
      case 'receipt': {
        const { type: _type, ...receipt } = frame
        this.emitter.emit('receipt', receipt)
        return
      }
      case 'broadcast_message': {
        const { type: _type, ...message } = frame
        if (this.seenMessages.add(`\u0000broadcast\u0000${message.id}`)) {
          this.emitter.emit('broadcast_message', message)
        }
        return
      }
      case 'pairing_resolved': {
        const { type: _type, ...resolution } = frame
        this.emitter.emit('pairing_resolved', resolution)
        return
      }
      case 'presence': {
        const { type: _type, ...presence } = frame
        this.emitter.emit('presence', presence)
        return
      }
      case 'session_resumed':
        this.channels.sessionResumed(frame)
        return
      default:
        this.handleExtraFrame(frame)
    }
  }
}
