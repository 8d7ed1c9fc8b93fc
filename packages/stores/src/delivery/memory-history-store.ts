import { newEpoch, publishKeyScope } from './delivery-ids.js'
import { createMemoryKeys } from './memory-idempotency-keys.js'
import type {
  DeliveryBackendOptions,
  HistoryStore,
  PublishInput,
  PublishOutcome,
  ReadSinceResult,
  StoredDelivery,
  StoredPublication,
  StreamPosition,
} from './types.js'

interface Stream {
  epoch: string
  top: number
  /** Retained publications, oldest first, contiguous offsets ending at `top`. */
  publications: StoredPublication[]
}

/**
 * Channel streams in memory. Each channel gets a random epoch the first time it is touched, so a new
 * process means new epochs and subscribers of the old ones are told `recovered: false`.
 */
export function createMemoryHistoryStore(
  options: Pick<DeliveryBackendOptions, 'retention' | 'dedupeWindowMs'>,
  fanOut: (publication: StoredPublication) => StoredDelivery[],
): HistoryStore {
  const streams = new Map<string, Stream>()
  const publishKeys = createMemoryKeys<StoredPublication>()

  function streamOf(channel: string): Stream {
    let stream = streams.get(channel)
    if (stream === undefined) {
      stream = { epoch: newEpoch(), top: 0, publications: [] }
      streams.set(channel, stream)
    }
    return stream
  }

  /** Drops what is beyond the channel's retention as of `now`; returns how many. */
  function trimStream(channel: string, stream: Stream, now: number): number {
    const { size, ttlMs } = options.retention(channel)
    const { publications } = stream
    let drop = Math.max(0, publications.length - Math.max(0, size))
    while (drop < publications.length && isExpired(publications[drop] as StoredPublication, ttlMs, now)) {
      drop += 1
    }
    if (drop > 0) publications.splice(0, drop)
    return drop
  }

  return {
    async publish(inputs: PublishInput[]): Promise<PublishOutcome[]> {
      const outcomes: PublishOutcome[] = []
      for (const input of inputs) {
        publishKeys.sweep(input.timestamp)
        const key =
          input.idempotencyKey === undefined
            ? undefined
            : `${publishKeyScope(input.channel)}${input.idempotencyKey}`
        const first = key === undefined ? undefined : publishKeys.live(key, input.timestamp)
        if (first !== undefined) {
          outcomes.push({ publication: { ...first }, duplicate: true, deliveries: [] })
          continue
        }
        const stream = streamOf(input.channel)
        stream.top += 1
        const publication: StoredPublication = {
          channel: input.channel,
          offset: stream.top,
          epoch: stream.epoch,
          id: input.id,
          source: input.source,
          data: input.data,
          timestamp: input.timestamp,
        }
        stream.publications.push(publication)
        trimStream(input.channel, stream, input.timestamp)
        if (key !== undefined)
          publishKeys.remember(key, publication, input.timestamp + options.dedupeWindowMs)
        outcomes.push({ publication: { ...publication }, duplicate: false, deliveries: fanOut(publication) })
      }
      return outcomes
    },

    async position(channel: string): Promise<StreamPosition> {
      const stream = streamOf(channel)
      return { offset: stream.top, epoch: stream.epoch }
    },

    async readSince(channel: string, since: StreamPosition, now: number): Promise<ReadSinceResult> {
      const stream = streamOf(channel)
      const position = { offset: stream.top, epoch: stream.epoch }
      if (since.epoch !== stream.epoch || since.offset > stream.top || since.offset < 0) {
        return { recovered: false, position }
      }
      const missed = stream.top - since.offset
      if (missed === 0) return { recovered: true, publications: [], position }
      const { size, ttlMs } = options.retention(channel)
      if (missed > size || missed > stream.publications.length) return { recovered: false, position }
      const publications = stream.publications.slice(stream.publications.length - missed)
      // Contiguous offsets: the oldest missed one is retained only if it has not expired yet.
      if (publications.some((publication) => isExpired(publication, ttlMs, now))) {
        return { recovered: false, position }
      }
      return {
        recovered: true,
        publications: publications.map((publication) => ({ ...publication })),
        position,
      }
    },

    async trim(now: number): Promise<number> {
      let removed = publishKeys.sweep(now)
      for (const [channel, stream] of streams) removed += trimStream(channel, stream, now)
      return removed
    },
  }
}

function isExpired(publication: StoredPublication, ttlMs: number, now: number): boolean {
  return publication.timestamp + ttlMs <= now
}
