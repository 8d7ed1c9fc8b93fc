import type { Redis, RedisOptions } from 'ioredis'
import { closeRedis, connectRedis } from '../redis-connection.js'
import { newDeliveryId } from './delivery-ids.js'
import { createGroupCommit } from './group-commit.js'
import { createRedisDeliveryStore } from './redis-delivery-store.js'
import { durabilityWarnings, readDurabilityFacts } from './redis-durability.js'
import {
  commitRedisPublishes,
  createRedisHistoryStore,
  createSubscriberCache,
  type RedisContext,
} from './redis-history-store.js'
import { defineScripts, type RunScript } from './redis-scripts.js'
import type { DeliveryBackend, DeliveryBackendOptions, PublishInput, PublishOutcome } from './types.js'

export interface RedisDeliveryBackendOptions extends DeliveryBackendOptions {
  /** A `redis://` / `rediss://` URL or ioredis options (host, port, db, password, tls…). */
  redis: string | RedisOptions
  /** Start of every key, so several deployments can share one Redis; default `parley:`. */
  prefix?: string
  /** Connections opened (commands are spread over them); default 1. */
  connections?: number
  /**
   * How long a channel's stream (epoch, offset, history) outlives its last publication, in milliseconds;
   * at least the channel's retention TTL. Default 7 days. After that the channel starts a new epoch.
   */
  idleStreamTtlMs?: number
  /**
   * Milliseconds a command may wait for its reply before it fails; default: no limit. A Redis that drops
   * packets (no reset) otherwise keeps every command waiting until the link comes back.
   */
  commandTimeoutMs?: number
  /** Told about connection errors (commands still fail on their own); ioredis retries the connection. */
  onError?: (error: Error) => void
  /**
   * Told, once after connecting, why data in this Redis may be lost (an evicting maxmemory-policy, no AOF
   * and no RDB). Without it the server is not inspected.
   */
  onWarning?: (message: string) => void
}

const DEFAULT_PREFIX = 'parley:'
const DEFAULT_IDLE_STREAM_TTL_MS = 7 * 24 * 3_600_000
/** Inputs per publish script; bounds how long one script holds Redis. */
const MAX_BATCH = 1_000

/**
 * History and deliveries in Redis, shared by every gateway node that uses the same prefix. Each change is
 * one Lua script (atomic); concurrent publishes are batched into one script per round trip. Data lasts as
 * long as Redis keeps it: configure AOF or RDB persistence. A channel whose keys are gone (flushed, lost,
 * idle past `idleStreamTtlMs`) starts a new epoch, so subscribers are told `recovered: false`.
 */
export function createRedisDeliveryBackend(options: RedisDeliveryBackendOptions): DeliveryBackend {
  const resolved = { ...options, newDeliveryId: options.newDeliveryId ?? newDeliveryId }
  const defaults: RedisOptions =
    options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }
  const pool = Array.from({ length: Math.max(1, Math.trunc(options.connections ?? 1)) }, () => {
    const redis = connectRedis(options.redis, options.onError, defaults)
    return { redis, run: defineScripts(redis) }
  })
  let next = 0
  const take = () => {
    next = (next + 1) % pool.length
    return pool[next] as { redis: Redis; run: RunScript }
  }
  const context: RedisContext = {
    connection: () => take().redis,
    run: (name, base, args) => take().run(name, base, args),
    base: `${options.prefix ?? DEFAULT_PREFIX}{d}:`,
    wallClock: () => Date.now(),
    idleStreamTtlMs: options.idleStreamTtlMs ?? DEFAULT_IDLE_STREAM_TTL_MS,
  }
  const onWarning = options.onWarning
  const inspected =
    onWarning === undefined
      ? Promise.resolve()
      : readDurabilityFacts(take().redis).then(
          (facts) => {
            for (const warning of durabilityWarnings(facts)) onWarning(warning)
          },
          // Not reachable now: the calls that need the server report that themselves.
          () => {},
        )
  const subscriberCache = createSubscriberCache()
  // One batch at a time: publishes keep their call order on a channel whatever connection carries them.
  const publishes = createGroupCommit<PublishInput, PublishOutcome>(
    (inputs) => commitRedisPublishes(context, inputs, resolved, subscriberCache),
    MAX_BATCH,
  )
  return {
    name: 'redis',
    history: createRedisHistoryStore(context, resolved, publishes),
    deliveries: createRedisDeliveryStore(context, resolved),
    async ping(): Promise<void> {
      await Promise.all(pool.map(({ redis }) => redis.ping()))
    },
    async close(): Promise<void> {
      await publishes.close()
      await inspected
      await Promise.all(pool.map(({ redis }) => closeRedis(redis)))
    },
  }
}
