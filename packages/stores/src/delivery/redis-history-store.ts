import type { Redis } from 'ioredis'
import { newEpoch, publishKeyScope } from './delivery-ids.js'
import type { GroupCommit } from './group-commit.js'
import { newChannelDelivery } from './new-deliveries.js'
import type { RunScript } from './redis-scripts.js'
import type {
  DeliveryBackendOptions,
  HistoryStore,
  PublishInput,
  PublishOutcome,
  RetentionPolicy,
  StoredPublication,
  StreamPosition,
} from './types.js'

/** What the Redis history store shares with the backend: the connection, scripts and key base. */
export interface RedisContext {
  /** A connection for the next command (round robin over the pool). */
  connection(): Redis
  run: RunScript
  /** `<prefix>{d}:`, the start of every key. */
  base: string
  /** Wall-clock milliseconds, for the keys' real expiry (stores take `now` from the caller otherwise). */
  wallClock(): number
  /** How long a channel's stream outlives its last publication (at least its retention TTL). */
  idleStreamTtlMs: number
}

type ResolvedOptions = DeliveryBackendOptions & { newDeliveryId: () => string }

/** Times the subscriber list may change under one publish batch before it gives up. */
const MAX_PUBLISH_RETRIES = 20
const CHANNELS_PER_TRIM = 500
const KEYS_PER_TRIM = 1_000

/**
 * The durable subscribers of recently published channels as last seen, so a publish takes one round trip:
 * the publish script checks them and, when they changed (another node subscribed), answers the current
 * ones and the batch is retried with those.
 */
export interface SubscriberCache {
  get(channel: string): string[]
  set(channel: string, subscribers: string[]): void
}

const CACHED_CHANNELS = 10_000

export function createSubscriberCache(): SubscriberCache {
  const known = new Map<string, string[]>()
  return {
    // Most channels have no durable subscriber: that is the guess for one not seen yet.
    get: (channel) => known.get(channel) ?? [],
    set(channel, subscribers) {
      known.delete(channel)
      known.set(channel, [...subscribers].sort())
      if (known.size > CACHED_CHANNELS) known.delete(known.keys().next().value as string)
    },
  }
}

/**
 * One publish batch: makes delivery ids for the subscribers the cache expects and runs the publish script,
 * which checks them (else the batch is retried with the current ones) and then appends, dedupes and fans
 * out atomically.
 */
export async function commitRedisPublishes(
  context: RedisContext,
  inputs: PublishInput[],
  options: ResolvedOptions,
  subscriberCache: SubscriberCache,
): Promise<PublishOutcome[]> {
  const channels = [...new Set(inputs.map((input) => input.channel))]
  const channelIndex = new Map(channels.map((channel, index) => [channel, index + 1]))
  const bodies = inputs.map((input) => JSON.stringify([input.id, input.source, input.data ?? null]))
  for (let attempt = 0; attempt < MAX_PUBLISH_RETRIES; attempt += 1) {
    const subscribers = channels.map((channel) => subscriberCache.get(channel))
    // PX takes whole milliseconds.
    const args: (string | number)[] = [
      context.wallClock(),
      Math.ceil(options.dedupeWindowMs),
      channels.length,
    ]
    channels.forEach((channel, index) => {
      const { size, ttlMs } = boundedRetention(options.retention(channel))
      const ofChannel = subscribers[index] ?? []
      args.push(channel, newEpoch(), size, ttlMs, streamTtl(context, ttlMs, options), ofChannel.length)
      args.push(...ofChannel)
    })
    args.push(inputs.length)
    const deliveryIds: string[][] = []
    inputs.forEach((input, index) => {
      const slot = channelIndex.get(input.channel) as number
      const key = input.idempotencyKey
      const ids = (subscribers[slot - 1] ?? []).map(() => options.newDeliveryId())
      deliveryIds.push(ids)
      args.push(
        slot,
        key === undefined ? '0' : '1',
        key === undefined ? '' : `${publishKeyScope(input.channel)}${key}`,
        input.timestamp,
        input.timestamp + options.dedupeWindowMs,
        bodies[index] as string,
        input.timestamp + options.messageTtlMs,
        ...ids,
      )
    })
    const reply = (await context.run('parleyPublish', context.base, args)) as
      | ['retry', string[][]]
      | ['ok', ([0, number, string] | [1, string])[]]
    if (reply[0] === 'retry') {
      channels.forEach((channel, index) => {
        subscriberCache.set(channel, (reply[1][index] ?? []) as string[])
      })
      continue
    }
    return reply[1].map((result, index): PublishOutcome => {
      const input = inputs[index] as PublishInput
      if (result[0] === 1) {
        return {
          publication: parseFirstPublication(input.channel, result[1]),
          duplicate: true,
          deliveries: [],
        }
      }
      const publication: StoredPublication = {
        channel: input.channel,
        offset: Number(result[1]),
        epoch: result[2],
        id: input.id,
        source: input.source,
        data: input.data ?? null,
        timestamp: input.timestamp,
      }
      const recipients = subscribers[(channelIndex.get(input.channel) as number) - 1] ?? []
      const ids = deliveryIds[index] ?? []
      return {
        publication,
        duplicate: false,
        deliveries: recipients.map((recipient, at) =>
          newChannelDelivery(ids[at] as string, recipient, publication, options.messageTtlMs),
        ),
      }
    })
  }
  throw new Error('Durable subscriptions kept changing during a publish; try again')
}

/** Channel history in Redis; publishes go through `publishes` (batched, one script per batch). */
export function createRedisHistoryStore(
  context: RedisContext,
  options: ResolvedOptions,
  publishes: GroupCommit<PublishInput, PublishOutcome>,
): HistoryStore {
  async function readStream(
    channel: string,
    since: StreamPosition,
    size: number,
  ): Promise<{ position: StreamPosition; entries: string[] }> {
    const { ttlMs } = boundedRetention(options.retention(channel))
    const [epoch, top, entries] = (await context.run('parleyReadStream', context.base, [
      channel,
      newEpoch(),
      streamTtl(context, ttlMs, options),
      context.wallClock(),
      since.epoch,
      Math.trunc(since.offset),
      size,
    ])) as [string, number, string[]]
    return { position: { offset: Number(top), epoch }, entries }
  }

  return {
    publish: async (inputs) => (inputs.length === 0 ? [] : publishes.submit(inputs)),

    async position(channel) {
      return (await readStream(channel, { offset: 0, epoch: '' }, 0)).position
    },

    async readSince(channel, since, now) {
      const { size, ttlMs } = boundedRetention(options.retention(channel))
      const { position, entries } = await readStream(channel, since, size)
      const since_ = Math.trunc(since.offset)
      if (since.epoch !== position.epoch || since_ < 0 || since_ > position.offset) {
        return { recovered: false, position }
      }
      const missed = position.offset - since_
      if (missed === 0) return { recovered: true, publications: [], position }
      const publications = entries.map((entry) => parseEntry(channel, position.epoch, entry))
      // Contiguous offsets: every missed one is there exactly when the count and the ends match.
      if (
        publications.length !== missed ||
        publications[0]?.offset !== since_ + 1 ||
        publications.some((publication) => publication.timestamp + ttlMs <= now)
      ) {
        return { recovered: false, position }
      }
      return { recovered: true, publications, position }
    },

    async trim(now) {
      let removed = 0
      for (;;) {
        const keys = Number(await context.run('parleyTrimKeys', context.base, [now, KEYS_PER_TRIM]))
        removed += keys
        if (keys < KEYS_PER_TRIM) break
      }
      const channels = await context
        .connection()
        .zrangebyscore(`${context.base}streams`, context.wallClock(), '+inf')
      for (let start = 0; start < channels.length; start += CHANNELS_PER_TRIM) {
        const args: (string | number)[] = [context.wallClock()]
        for (const channel of channels.slice(start, start + CHANNELS_PER_TRIM)) {
          const { size, ttlMs } = boundedRetention(options.retention(channel))
          args.push(channel, size, ttlMs, now)
        }
        removed += Number(await context.run('parleyTrimStreams', context.base, args))
      }
      return removed
    },
  }
}

/** A history entry ("<timestamp>:<offset>:<body>") as a publication. */
function parseEntry(channel: string, epoch: string, entry: string): StoredPublication {
  const first = entry.indexOf(':')
  const second = entry.indexOf(':', first + 1)
  const [id, source, data] = JSON.parse(entry.slice(second + 1)) as [string, string, unknown]
  return {
    channel,
    offset: Number(entry.slice(first + 1, second)),
    epoch,
    id,
    source,
    data,
    timestamp: Number(entry.slice(0, first)),
  }
}

/** A publish key's first result ("<offset>|<epoch>|<timestamp>|<body>") as a publication. */
function parseFirstPublication(channel: string, held: string): StoredPublication {
  const [offset, epoch, timestamp] = held.split('|', 3) as [string, string, string]
  const body = held.slice(offset.length + epoch.length + timestamp.length + 3)
  const [id, source, data] = JSON.parse(body) as [string, string, unknown]
  return { channel, offset: Number(offset), epoch, id, source, data, timestamp: Number(timestamp) }
}

/** Wall-clock lifetime of a channel's keys after its last publication; 0 keeps them (an unbounded TTL). */
function streamTtl(context: RedisContext, ttlMs: number, options: DeliveryBackendOptions): number {
  if (ttlMs >= UNBOUNDED_TTL) return 0
  return Math.ceil(Math.max(context.idleStreamTtlMs, ttlMs, options.dedupeWindowMs))
}

const UNBOUNDED_TTL = Number.MAX_SAFE_INTEGER / 2

/** Retention as finite numbers a script can carry. */
function boundedRetention(retention: RetentionPolicy): RetentionPolicy {
  const size = Number.isFinite(retention.size)
    ? Math.max(0, Math.trunc(retention.size))
    : Number.MAX_SAFE_INTEGER
  const ttlMs = Number.isFinite(retention.ttlMs) ? Math.max(0, Math.trunc(retention.ttlMs)) : UNBOUNDED_TTL
  return { size, ttlMs }
}
