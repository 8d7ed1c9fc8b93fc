import {
  encodeFrame,
  errorBody,
  type PublishFrame,
  type StreamPosition,
  type SubscribeFrame,
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
import type { ChannelPosition, ChannelRegistry } from './channel-registry.js'

export interface ChannelStreamCounters {
  messagesPublished: number
  messagesDelivered: number
}

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
}

/** What channel streams need from the cluster (see `cluster/channel-relay.ts`). */
export interface ChannelCluster {
  /** Whether this node listens to the channel on the bus (it has local subscribers or joins). */
  listening(channel: string): boolean
  /** A publication was stored here: tell the other nodes (`frame` is its live frame, encoded once). */
  published(publication: StoredPublication, frame: string): void
  /** A subscriber started (true) or finished (false) joining the channel. */
  joining(channel: string, started: boolean): void
}

/** A publication stored by another node, as it came over the bus. */
export interface RemotePublication {
  channel: string
  offset: number
  epoch: string
  /** Its live frame, encoded once by the node that stored it. */
  frame: string
}

interface PendingPublish {
  connection: Connection
  frame: PublishFrame
  size: number
  id: string
  timestamp: number
  /** `data` serialised once, at arrival: data that cannot be serialised is refused before it is stored. */
  dataJson: string
}

/** A subscriber on its way to live: live frames of its channel are buffered until its replay is sent. */
interface Join {
  readonly connection: Connection
  readonly channel: string
  readonly requestId: string
  readonly buffer: { offset: number; frame: Buffer }[]
  cancelled: boolean
}

type StoreFailure = { error: unknown }

/** First wait before reading a channel's missed publications again after the store failed, then doubled. */
const CATCH_UP_RETRY_MS = 250
const CATCH_UP_RETRY_MAX_MS = 5_000

/** Where a publication sits in its channel's stream. */
interface Positioned {
  channel: string
  offset: number
  epoch: string
}

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
  let batch: PendingPublish[] = []
  let flushScheduled = false
  /** The ordered chain: resolves once every batch issued so far has been fanned out and answered. */
  let tail: Promise<void> = Promise.resolve()
  const joinsByChannel = new Map<string, Set<Join>>()
  const joinsByConnection = new Map<Connection, Map<string, Join>>()
  /** Channels whose gap could not be read from the store: the wait before the next attempt. */
  const catchUpRetries = new Map<string, { timer: NodeJS.Timeout | undefined; delayMs: number }>()

  function publish(connection: Connection, frame: PublishFrame, size: number): void {
    let dataJson: string
    try {
      dataJson = JSON.stringify(frame.data)
    } catch (error) {
      if (error instanceof RangeError) throw new GatewayError('invalid_frame', 'data is nested too deeply')
      throw error
    }
    batch.push({ connection, frame, size, id: newId('msg'), timestamp: Date.now(), dataJson })
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
    tail = tail.then(async () => {
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
        for (const item of pending) replyError(item.connection, item.frame.id, error)
        return
      }
      logger.error({ err: error, publications: pending.length }, 'history store failed to store publications')
      for (const item of pending) {
        replyError(
          item.connection,
          item.frame.id,
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
        replyError(item.connection, item.frame.id, new GatewayError('internal', 'internal server error'))
        continue
      }
      const { publication, duplicate } = result
      if (duplicate) {
        options.onDuplicate()
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
      const frame = liveFrame(publication, item.dataJson)
      const encoded = Buffer.from(frame)
      options.cluster?.published(publication, frame)
      let delivered = fanOut(publication, encoded, now)
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
    }
  }

  /** Live fan-out of one publication to the local subscribers and to the subscribers joining. */
  function fanOutNow(publication: Positioned, encoded: Buffer, now: number, record: boolean): number {
    const delivered = channels.publish(
      publication.channel,
      encoded,
      now,
      record ? { offset: publication.offset, epoch: publication.epoch } : undefined,
    )
    const joins = joinsByChannel.get(publication.channel)
    if (joins !== undefined) {
      for (const join of joins) join.buffer.push({ offset: publication.offset, frame: encoded })
    }
    return delivered
  }

  /**
   * Fans out in offset order. Alone, publications arrive here in that order, except after a store call that
   * failed (timed out, or lost its reply with its connection) but committed: its offsets were taken.
   * With several nodes they come from the store here and over the bus from the others. Either way one
   * already fanned out is dropped, and one after a gap waits until the missing ones are read from the store
   * and fanned out. Runs on the ordered chain.
   */
  function fanOut(publication: Positioned, encoded: Buffer, now: number): number | Promise<number> {
    const { cluster } = options
    // Not listened here: other nodes' publications do not reach this node, so no position is kept.
    if (cluster !== undefined && !cluster.listening(publication.channel))
      return fanOutNow(publication, encoded, now, false)
    const known = channels.positionOf(publication.channel)
    if (known === undefined || known.epoch !== publication.epoch || publication.offset === known.offset + 1) {
      return fanOutNow(publication, encoded, now, true)
    }
    if (publication.offset <= known.offset) return 0
    return catchUpFrom(publication.channel, known, now).then((read) => {
      // The gap stays open: fanning this one out would skip it for good. It is in the store, so the
      // catch-up delivers it after the missing ones once the store answers again.
      if (!read) return 0
      const after = channels.positionOf(publication.channel)
      if (after !== undefined && after.epoch === publication.epoch && publication.offset <= after.offset)
        return 0
      return fanOutNow(publication, encoded, now, true)
    })
  }

  /**
   * Reads what the channel's stream holds after `from` and fans it out (on the chain). False
   * when the store could not be read: the position stays at `from`, and another attempt is scheduled.
   */
  async function catchUpFrom(channel: string, from: ChannelPosition, now: number): Promise<boolean> {
    let read: ReadSinceResult
    try {
      read = await backend().history.readSince(channel, from, now)
    } catch (error) {
      logger.warn({ err: error, channel }, 'reading missed publications from the store failed; will retry')
      retryCatchUp(channel)
      return false
    }
    catchUpRetries.delete(channel)
    if (!read.recovered) {
      logger.warn({ channel, from }, 'missed publications are no longer in the history; live continues')
      return true
    }
    for (const publication of read.publications) {
      const known = channels.positionOf(channel)
      if (known !== undefined && known.epoch === publication.epoch && publication.offset <= known.offset)
        continue
      counters.messagesDelivered += fanOutNow(
        publication,
        Buffer.from(encodeFrame(replayFrame(publication))),
        now,
        true,
      )
    }
    return true
  }

  /** Reads the channel's gap again later (backing off), as long as this node still listens to it. */
  function retryCatchUp(channel: string): void {
    const retry = catchUpRetries.get(channel) ?? { timer: undefined, delayMs: CATCH_UP_RETRY_MS / 2 }
    if (retry.timer !== undefined) return
    retry.delayMs = Math.min(retry.delayMs * 2, CATCH_UP_RETRY_MAX_MS)
    retry.timer = setTimeout(() => {
      retry.timer = undefined
      if (options.cluster === undefined || options.cluster.listening(channel)) catchUp(channel)
      else catchUpRetries.delete(channel)
    }, retry.delayMs)
    retry.timer.unref()
    catchUpRetries.set(channel, retry)
  }

  /** A publication another node stored, from the bus: fanned out in order with the local ones. */
  function deliverRemote(publication: RemotePublication): void {
    tail = tail.then(async () => {
      try {
        let delivered = fanOut(publication, Buffer.from(publication.frame), Date.now())
        if (typeof delivered !== 'number') delivered = await delivered
        counters.messagesDelivered += delivered
      } catch (error) {
        logger.error({ err: error, channel: publication.channel }, 'fan-out of a remote publication failed')
      }
    })
  }

  /** After a bus outage: fans out what the channel got meanwhile, from the store, after what was seen here. */
  function catchUp(channel: string): void {
    tail = tail.then(async () => {
      const known = channels.positionOf(channel)
      if (known === undefined) return
      try {
        await catchUpFrom(channel, known, Date.now())
      } catch (error) {
        logger.error({ err: error, channel }, 'catching up a channel failed')
      }
    })
  }

  function replyError(connection: Connection, id: string, error: GatewayError): void {
    connection.sendFrame({ type: 'error', id, ...errorBody(error.code, error.message, error.retryAfterMs) })
  }

  /** Subscriptions held or on their way, against `maxSubscriptions`. */
  function subscriptionCount(connection: Connection): number {
    return connection.subscriptions.size + (joinsByConnection.get(connection)?.size ?? 0)
  }

  function checkLimit(connection: Connection, channel: string): void {
    if (connection.subscriptions.has(channel) || joinsByConnection.get(connection)?.has(channel)) return
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
    if (joinsByConnection.get(connection)?.has(frame.channel)) {
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
    const entry: Join = {
      connection,
      channel: frame.channel,
      requestId: frame.id,
      buffer: [],
      cancelled: false,
    }
    addJoin(entry)
    let read: ReadSinceResult | { recovered: undefined; position: ChannelPosition }
    try {
      const { history } = backend()
      read =
        frame.since === undefined
          ? { recovered: undefined, position: await history.position(frame.channel) }
          : await history.readSince(frame.channel, frame.since, Date.now())
      // Everything the read saw has been issued to the store, so it is on the chain: once the chain has
      // caught up, each of those publications is either in the replay or in the buffer.
      await tail
    } catch (error) {
      removeJoin(entry)
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
        removeJoin(entry)
        if (entry.cancelled) return
        throw error
      }
      if (entry.cancelled) return
    }
    removeJoin(entry)
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
    entry: Join,
    from: ChannelPosition,
    replay: StoredPublication[],
  ): Promise<number> {
    let offset = from.offset
    for (let round = 0; round < 3; round += 1) {
      const first = entry.buffer.find((buffered) => buffered.offset > offset)
      if (first === undefined || first.offset === offset + 1) break
      const read = await backend().history.readSince(entry.channel, { offset, epoch: from.epoch }, Date.now())
      await tail
      if (entry.cancelled || !read.recovered || read.publications.length === 0) break
      for (const publication of read.publications) {
        if (publication.offset <= offset) continue
        replay.push(publication)
        offset = publication.offset
      }
    }
    return offset
  }

  function addJoin(entry: Join): void {
    let ofChannel = joinsByChannel.get(entry.channel)
    if (ofChannel === undefined) {
      ofChannel = new Set()
      joinsByChannel.set(entry.channel, ofChannel)
    }
    ofChannel.add(entry)
    let ofConnection = joinsByConnection.get(entry.connection)
    if (ofConnection === undefined) {
      ofConnection = new Map()
      joinsByConnection.set(entry.connection, ofConnection)
    }
    ofConnection.set(entry.channel, entry)
    options.cluster?.joining(entry.channel, true)
  }

  function removeJoin(entry: Join): void {
    const ofChannel = joinsByChannel.get(entry.channel)
    if (ofChannel?.delete(entry)) options.cluster?.joining(entry.channel, false)
    if (ofChannel?.size === 0) joinsByChannel.delete(entry.channel)
    const ofConnection = joinsByConnection.get(entry.connection)
    if (ofConnection?.get(entry.channel) === entry) ofConnection.delete(entry.channel)
    if (ofConnection?.size === 0) joinsByConnection.delete(entry.connection)
  }

  function cancelJoin(entry: Join): void {
    entry.cancelled = true
    entry.buffer.length = 0
    removeJoin(entry)
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
    const pendingJoin = joinsByConnection.get(connection)?.get(frame.channel)
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
    const pendingJoin = joinsByConnection.get(connection)?.get(frame.channel)
    let wasSubscribed = false
    if (pendingJoin !== undefined) {
      cancelJoin(pendingJoin)
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
    const joins = joinsByConnection.get(connection)
    if (joins === undefined) return
    for (const entry of [...joins.values()]) cancelJoin(entry)
    joinsByConnection.delete(connection)
  }

  return {
    publish,
    subscribe,
    unsubscribe,
    rejoin,
    connectionClosed,
    deliverRemote,
    catchUp,
    /** Resolves once every publication accepted so far has been answered (used by stop and tests). */
    settled(): Promise<void> {
      return tail
    },
  }
}

export type ChannelStreams = ReturnType<typeof createChannelStreams>

/** The live frame, assembled around data serialised once at arrival. */
function liveFrame(publication: StoredPublication, dataJson: string): string {
  return (
    `{"type":"channel_message","channel":${JSON.stringify(publication.channel)},"data":${dataJson}` +
    `,"id":${JSON.stringify(publication.id)},"source":${JSON.stringify(publication.source)}` +
    `,"timestamp":${publication.timestamp},"offset":${publication.offset}` +
    `,"epoch":${JSON.stringify(publication.epoch)}}`
  )
}

function replayFrame(publication: StoredPublication) {
  return {
    type: 'channel_message' as const,
    channel: publication.channel,
    data: publication.data,
    id: publication.id,
    source: publication.source,
    timestamp: publication.timestamp,
    offset: publication.offset,
    epoch: publication.epoch,
  }
}
