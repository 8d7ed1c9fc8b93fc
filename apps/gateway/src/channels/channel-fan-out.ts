// Live fan-out of channel publications in offset order, on one ordered chain, and catching up from the store
// what this node missed (a gap in the offsets, a bus outage).
import { encodeFrame } from '@parley/protocol'
import type { DeliveryBackend, ReadSinceResult, StoredPublication } from '@parley/stores'
import type { Logger } from 'pino'
import { replayFrame } from './channel-outbound.js'
import type { ChannelPosition, ChannelRegistry } from './channel-registry.js'

export interface ChannelStreamCounters {
  messagesPublished: number
  messagesDelivered: number
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

/** First wait before reading a channel's missed publications again after the store failed, then doubled. */
const CATCH_UP_RETRY_MS = 250
const CATCH_UP_RETRY_MAX_MS = 5_000

/** Where a publication sits in its channel's stream. */
interface Positioned {
  channel: string
  offset: number
  epoch: string
}

export interface ChannelFanOutOptions {
  channels: ChannelRegistry
  /** The open backend; throws `unavailable` before the gateway has started. */
  backend: () => DeliveryBackend
  logger: Logger
  counters: ChannelStreamCounters
  /** Hands a live frame to the subscribers still joining the channel (they buffer it until their replay). */
  bufferJoining: (channel: string, offset: number, frame: Buffer) => void
  /** With several nodes: live fan-out follows the shared offsets, whichever node stored a publication. */
  cluster?: ChannelCluster
}

/**
 * The ordered chain of a node's channel work: fan-out, replies and joins run on it in the order they were
 * issued, so live subscribers see offsets in order.
 */
export function createChannelFanOut(options: ChannelFanOutOptions) {
  const { channels, backend, logger, counters } = options
  /** The ordered chain: resolves once every task issued so far has run. */
  let tail: Promise<void> = Promise.resolve()
  /** Channels whose gap could not be read from the store: the wait before the next attempt. */
  const catchUpRetries = new Map<string, { timer: NodeJS.Timeout | undefined; delayMs: number }>()

  /** Runs `task` on the chain, after every task issued before it. */
  function enqueue(task: () => Promise<void>): void {
    tail = tail.then(task)
  }

  /** Live fan-out of one publication to the local subscribers and to the subscribers joining. */
  function fanOutNow(publication: Positioned, encoded: Buffer, now: number, record: boolean): number {
    const delivered = channels.publish(
      publication.channel,
      encoded,
      now,
      record ? { offset: publication.offset, epoch: publication.epoch } : undefined,
    )
    options.bufferJoining(publication.channel, publication.offset, encoded)
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

  return {
    enqueue,
    fanOut,
    deliverRemote,
    catchUp,
    /** Resolves once every task issued so far has run. */
    settled(): Promise<void> {
      return tail
    },
  }
}

export type ChannelFanOut = ReturnType<typeof createChannelFanOut>
