import type { Span } from '@opentelemetry/api'
import {
  encodeFrame,
  errorBody,
  type PublishFrame,
  type StreamPosition,
  type SubscribeFrame,
  type TraceContext,
  type UnsubscribeFrame,
} from '@parley/protocol'
import type {
  DeliveryBackend,
  PublishOutcome,
  ReadSinceResult,
  StoredDelivery,
  StoredPublication,
} from '@parley/stores'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { GatewayConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import { newId } from '../ids.js'
import type { Connection } from '../peers/connection.js'
import { startMessagingSpan } from '../tracing/agent-spans.js'
import { endSpan, type GatewayTracing, noTracing, traceContextOf } from '../tracing/gateway-tracing.js'
import { type ChannelCluster, type ChannelStreamCounters, createChannelFanOut } from './channel-fan-out.js'
import { createChannelJoins, type Join } from './channel-joins.js'
import { liveFrame, replayFrame } from './channel-outbound.js'
import type { ChannelPosition, ChannelRegistry } from './channel-registry.js'

export type { ChannelCluster, ChannelStreamCounters, RemotePublication } from './channel-fan-out.js'

export interface ChannelStreamsOptions {
  config: GatewayConfig
  channels: ChannelRegistry<Connection>
  /** The open backend; throws `unavailable` before the gateway has started. */
  backend: () => DeliveryBackend
  logger: Logger
  audit: ConnectionAudit
  counters: ChannelStreamCounters
  /** Durable deliveries created by a publication, for the delivery engine. */
  onDeliveries: (deliveries: StoredDelivery[]) => void
  /** Publications answered as duplicates of an earlier idempotency key. */
  onDuplicate: () => void
  /** Durable subscribe/unsubscribe (the delivery engine's side of it). */
  durable: {
    requireEnabled: () => void
    wake: (clientId: string) => void
  }
  /** With several nodes: live fan-out follows the shared offsets, whichever node stored a publication. */
  cluster?: ChannelCluster
  /** The `publish {channel}` spans (off unless an OTLP endpoint is configured). */
  tracing?: GatewayTracing
}

interface PendingPublish {
  connection: Connection
  frame: PublishFrame
  size: number
  id: string
  timestamp: number
  /** `data` serialised once, at arrival: data that cannot be serialised is refused before it is stored. */
  dataJson: string
  /** The gateway's `publish` span (tracing on only). */
  span: Span | undefined
  /** The trace context the live `channel_message` frames carry. */
  trace: TraceContext
}

type StoreFailure = { error: unknown }
/** Where a joining subscriber continues from (the subscribe reply's result). */
export interface JoinResult {
  channel: string
  offset: number
  epoch: string
  recovered?: boolean
  replayed?: number
}

/**
 * Channels with a stream: every publication goes through the history store, which gives it the next
 * offset of its channel, and only then is fanned out live (one encoded frame for every subscriber). Work
 * that must follow offset order (fan-out, replies, subscribers joining) runs on one ordered chain: store
 * calls are issued in arrival order, so completing them in the same order is completing them in offset
 * order.
 */
export function createChannelStreams(options: ChannelStreamsOptions) {
  const { config, channels, backend, logger, audit, counters } = options
  const tracing = options.tracing ?? noTracing
  let batch: PendingPublish[] = []
  let flushScheduled = false
  const joins = createChannelJoins<Connection>(options.cluster)
  /** The ordered chain: batches issued so far are fanned out and answered on it, in order. */
  const live = createChannelFanOut({
    channels,
    backend,
    logger,
    counters,
    bufferJoining: joins.buffer,
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  })

  function publish(connection: Connection, frame: PublishFrame, size: number): void {
    let dataJson: string
    try {
      dataJson = JSON.stringify(frame.data)
    } catch (error) {
      if (error instanceof RangeError) throw new GatewayError('invalid_frame', 'data is nested too deeply')
      throw error
    }
    const id = newId('msg')
    const span = startMessagingSpan(tracing, frame, {
      operation: 'publish',
      destination: frame.channel,
      messageId: id,
    })
    const trace = traceContextOf(span, frame)
    batch.push({ connection, frame, size, id, timestamp: Date.now(), dataJson, span, trace })
    if (!flushScheduled) {
      flushScheduled = true
      // Publications arriving in the same turn share one store call (and one commit with Postgres).
      queueMicrotask(flush)
    }
  }

  function flush(): void {
    flushScheduled = false
    const pending = batch
    batch = []
    let stored: Promise<PublishOutcome[] | StoreFailure>
    try {
      stored = backend()
        .history.publish(
          pending.map((item) => ({
            channel: item.frame.channel,
            id: item.id,
            source: item.connection.clientId,
            data: item.frame.data,
            timestamp: item.timestamp,
            ...(item.frame.idempotencyKey === undefined ? {} : { idempotencyKey: item.frame.idempotencyKey }),
          })),
        )
        .catch((error: unknown) => ({ error }))
    } catch (error) {
      stored = Promise.resolve({ error })
    }
    live.enqueue(async () => {
      const outcome = await stored
      try {
        await complete(pending, outcome)
      } catch (error) {
        logger.error({ err: error }, 'fan-out of a publication batch failed')
      }
    })
  }

  async function complete(
    pending: PendingPublish[],
    outcome: PublishOutcome[] | StoreFailure,
  ): Promise<void> {
    if ('error' in outcome) {
      const { error } = outcome
      if (error instanceof GatewayError) {
        for (const item of pending) refusePublish(item, error)
        return
      }
      logger.error({ err: error, publications: pending.length }, 'history store failed to store publications')
      for (const item of pending) {
        refusePublish(
          item,
          new GatewayError('unavailable', 'the message store is unavailable; retry with an idempotencyKey'),
        )
      }
      return
    }
    const now = Date.now()
    for (let index = 0; index < pending.length; index += 1) {
      const item = pending[index] as PendingPublish
      const result = outcome[index]
      if (result === undefined) {
        refusePublish(item, new GatewayError('internal', 'internal server error'))
        continue
      }
      const { publication, duplicate } = result
      if (duplicate) {
        options.onDuplicate()
        endSpan(item.span, 'ok')
        item.connection.sendFrame({
          type: 'reply',
          id: item.frame.id,
          result: {
            id: publication.id,
            channel: publication.channel,
            offset: publication.offset,
            epoch: publication.epoch,
            delivered: 0,
            timestamp: publication.timestamp,
            duplicate: true,
          },
        })
        continue
      }
      const frame = liveFrame(publication, item.dataJson, item.trace)
      const encoded = Buffer.from(frame)
      options.cluster?.published(publication, frame)
      let delivered = live.fanOut(publication, encoded, now)
      // Only after a gap in the offsets this node has seen: the missing ones go first.
      if (typeof delivered !== 'number') delivered = await delivered
      counters.messagesPublished += 1
      counters.messagesDelivered += delivered
      if (result.deliveries.length > 0) options.onDeliveries(result.deliveries)
      item.connection.sendFrame({
        type: 'reply',
        id: item.frame.id,
        result: {
          id: publication.id,
          channel: publication.channel,
          offset: publication.offset,
          epoch: publication.epoch,
          delivered,
          timestamp: publication.timestamp,
        },
      })
      audit.publish(item.connection, publication.channel, item.size, delivered)
      item.span?.setAttribute('parley.delivered', delivered)
      endSpan(item.span, 'ok')
    }
  }

  function replyError(connection: Connection, id: string, error: GatewayError): void {
    connection.sendError(errorBody(error.code, error.message, error.retryAfterMs), id)
  }

  function refusePublish(item: PendingPublish, error: GatewayError): void {
    endSpan(item.span, error.code)
    replyError(item.connection, item.frame.id, error)
  }

  /** Subscriptions held or on their way, against `maxSubscriptions`. */
  function subscriptionCount(connection: Connection): number {
    return connection.subscriptions.size + (joins.of(connection)?.size ?? 0)
  }

  function checkLimit(connection: Connection, channel: string): void {
    if (connection.subscriptions.has(channel) || joins.of(connection)?.has(channel)) return
    if (subscriptionCount(connection) < config.maxSubscriptions) return
    audit.subscribe(connection, channel, 'denied', 'subscription limit')
    throw new GatewayError(
      'rate_limited',
      `this connection already holds the limit of ${config.maxSubscriptions} subscriptions`,
    )
  }

  /**
   * `subscribe`. Plain: live at once when the channel's position is known here, otherwise after reading it.
   * With `since`: replays the missed publications, then the live ones buffered meanwhile, then goes live.
   */
  async function subscribe(connection: Connection, frame: SubscribeFrame): Promise<void> {
    if (frame.durable === true) return subscribeDurable(connection, frame)
    if (joins.of(connection)?.has(frame.channel)) {
      throw new GatewayError('conflict', `a subscription to ${frame.channel} is still being set up`)
    }
    const known = channels.positionOf(frame.channel)
    if (frame.since === undefined && connection.subscriptions.has(frame.channel)) {
      // Already live: every fan-out since it joined reached it, so the channel's last one is where it is.
      connection.sendFrame({
        type: 'reply',
        id: frame.id,
        result: { channel: frame.channel, ...(known === undefined ? {} : known) },
      })
      return
    }
    checkLimit(connection, frame.channel)
    if (frame.since === undefined && known !== undefined) {
      const outcome = channels.subscribe(frame.channel, connection, Number.POSITIVE_INFINITY)
      connection.sendFrame({
        type: 'reply',
        id: frame.id,
        result: { channel: frame.channel, offset: known.offset, epoch: known.epoch },
      })
      if (outcome === 'subscribed') audit.subscribe(connection, frame.channel)
      return
    }
    // Re-subscribing with `since` while live: leave live, so the replay and the live frames cannot mix.
    const wasLive = channels.unsubscribe(frame.channel, connection)
    await join(connection, frame, wasLive)
  }

  async function join(
    connection: Connection,
    frame: SubscribeFrame,
    wasLive: boolean,
    respond?: (result: JoinResult) => void,
  ): Promise<void> {
    const entry: Join<Connection> = {
      connection,
      channel: frame.channel,
      requestId: frame.id,
      buffer: [],
      cancelled: false,
    }
    joins.add(entry)
    let read: ReadSinceResult | { recovered: undefined; position: ChannelPosition }
    try {
      const { history } = backend()
      read =
        frame.since === undefined
          ? { recovered: undefined, position: await history.position(frame.channel) }
          : await history.readSince(frame.channel, frame.since, Date.now())
      // Everything the read saw has been issued to the store, so it is on the chain: once the chain has
      // caught up, each of those publications is either in the replay or in the buffer.
      await live.settled()
    } catch (error) {
      joins.remove(entry)
      if (entry.cancelled) return
      throw error
    }
    if (entry.cancelled) return
    let offset = read.position.offset
    let replayed = 0
    const replay: StoredPublication[] = []
    if (read.recovered === true) {
      replay.push(...read.publications)
      offset = read.publications.at(-1)?.offset ?? offset
      replayed = read.publications.length
      if (frame.since !== undefined && replayed === 0) offset = Math.max(offset, frame.since.offset)
    }
    if (options.cluster !== undefined) {
      // Publications of other nodes stored after the read may have reached the bus before this node
      // listened to the channel: the first live frame buffered is then not the next offset. Read the hole.
      try {
        offset = await fillJoinGap(entry, { offset, epoch: read.position.epoch }, replay)
      } catch (error) {
        joins.remove(entry)
        if (entry.cancelled) return
        throw error
      }
      if (entry.cancelled) return
    }
    joins.remove(entry)
    if (!connection.isOpen) return
    for (const publication of replay) connection.send(encodeFrame(replayFrame(publication)))
    replayed = replay.length
    for (const buffered of entry.buffer) {
      if (buffered.offset <= offset) continue
      connection.send(buffered.frame)
      offset = buffered.offset
    }
    const epoch = read.position.epoch
    channels.subscribe(frame.channel, connection, Number.POSITIVE_INFINITY)
    channels.notePosition(frame.channel, { offset, epoch })
    const result: JoinResult = {
      channel: frame.channel,
      offset,
      epoch,
      ...(read.recovered === undefined ? {} : { recovered: read.recovered, replayed }),
    }
    if (respond === undefined) connection.sendFrame({ type: 'reply', id: frame.id, result: { ...result } })
    else respond(result)
    if (!wasLive) audit.subscribe(connection, frame.channel)
  }

  /** Appends to `replay` what the store holds between `from` and the join's first buffered live frame. */
  async function fillJoinGap(
    entry: Join<Connection>,
    from: ChannelPosition,
    replay: StoredPublication[],
  ): Promise<number> {
    let offset = from.offset
    for (let round = 0; round < 3; round += 1) {
      const first = entry.buffer.find((buffered) => buffered.offset > offset)
      if (first === undefined || first.offset === offset + 1) break
      const read = await backend().history.readSince(entry.channel, { offset, epoch: from.epoch }, Date.now())
      await live.settled()
      if (entry.cancelled || !read.recovered || read.publications.length === 0) break
      for (const publication of read.publications) {
        if (publication.offset <= offset) continue
        replay.push(publication)
        offset = publication.offset
      }
    }
    return offset
  }

  /** `subscribe` with `durable`: the client id gets every later publication as an acknowledged delivery. */
  async function subscribeDurable(connection: Connection, frame: SubscribeFrame): Promise<void> {
    options.durable.requireEnabled()
    if (!connection.clientIdChosen) {
      throw new GatewayError(
        'bad_request',
        'durable subscriptions need a clientId chosen in hello that the client keeps across restarts',
      )
    }
    const pendingJoin = joins.of(connection)?.get(frame.channel)
    if (pendingJoin !== undefined) {
      throw new GatewayError('conflict', `a subscription to ${frame.channel} is still being set up`)
    }
    const { history, deliveries } = backend()
    // Read before subscribing: every publication after this position, and only those, becomes a delivery.
    const position = await history.position(frame.channel)
    await deliveries.subscribeDurable(connection.clientId, frame.channel, Date.now())
    // Its messages now come as deliveries; staying live too would hand each one over twice.
    channels.unsubscribe(frame.channel, connection)
    connection.sendFrame({
      type: 'reply',
      id: frame.id,
      result: { channel: frame.channel, offset: position.offset, epoch: position.epoch, durable: true },
    })
    audit.subscribe(connection, frame.channel, 'ok', 'durable')
    options.durable.wake(connection.clientId)
  }

  /** `unsubscribe`: leaves live (or a subscription being set up) and ends a durable subscription. */
  async function unsubscribe(connection: Connection, frame: UnsubscribeFrame): Promise<void> {
    const pendingJoin = joins.of(connection)?.get(frame.channel)
    let wasSubscribed = false
    if (pendingJoin !== undefined) {
      joins.cancel(pendingJoin)
      // Its subscribe still gets exactly one answer, before this one.
      replyError(
        connection,
        pendingJoin.requestId,
        new GatewayError('conflict', `unsubscribed from ${frame.channel} before the subscription completed`),
      )
      wasSubscribed = true
    }
    if (channels.unsubscribe(frame.channel, connection)) wasSubscribed = true
    if (connection.clientIdChosen && config.delivery.enabled) {
      if (await backend().deliveries.unsubscribeDurable(connection.clientId, frame.channel)) {
        wasSubscribed = true
      }
    }
    connection.sendFrame({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
    if (wasSubscribed) audit.unsubscribe(connection, frame.channel)
  }

  /**
   * Re-joins `channel` for a resumed session from `since` (missed publications replayed, then live), like
   * `subscribe` but answering the caller instead of the client. Undefined when it was cancelled or closed.
   */
  function rejoin(
    connection: Connection,
    channel: string,
    since: StreamPosition | undefined,
  ): Promise<JoinResult | undefined> {
    return new Promise<JoinResult | undefined>((resolve, reject) => {
      const frame: SubscribeFrame = {
        type: 'subscribe',
        id: `resume:${channel}`,
        channel,
        ...(since === undefined ? {} : { since }),
      }
      join(connection, frame, false, resolve).then(() => resolve(undefined), reject)
    })
  }

  /** A connection closed: subscriptions being set up are dropped with it. */
  function connectionClosed(connection: Connection): void {
    joins.connectionClosed(connection)
  }

  return {
    publish,
    subscribe,
    unsubscribe,
    rejoin,
    connectionClosed,
    deliverRemote: live.deliverRemote,
    catchUp: live.catchUp,
    /** Resolves once every publication accepted so far has been answered (used by stop and tests). */
    settled(): Promise<void> {
      return live.settled()
    },
  }
}
export type ChannelStreams = ReturnType<typeof createChannelStreams>
