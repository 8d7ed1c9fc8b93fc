import {
  createMemoryDeliveryBackend,
  createPostgresDeliveryBackend,
  createRedisDeliveryBackend,
  type DeliveryBackend,
  type DeliveryBackendOptions,
  type ParleyDatabase,
  type RedisDeliveryBackendOptions,
} from '@parley/stores'
import type { Logger } from 'pino'
import { createRetention } from '../channels/history-retention.js'
import { ConfigError, type GatewayConfig, type RedisConfig } from '../config.js'
import { newId } from '../ids.js'

/** The store options the config implies: retention per channel, dedupe window and message TTL. */
export function deliveryBackendOptions(config: GatewayConfig): DeliveryBackendOptions {
  return {
    retention: createRetention(config.history),
    dedupeWindowMs: config.delivery.dedupeWindow * 1000,
    messageTtlMs: config.delivery.messageTtl * 1000,
    newDeliveryId: () => newId('dlv'),
  }
}

/**
 * Connections of the Redis delivery backend, at most. Redis runs one command at a time and each connection
 * pipelines, so a few are enough; the rest of `redis.maxConnections` is left to the bus.
 */
const MAX_REDIS_DELIVERY_CONNECTIONS = 4

/** Where the Redis delivery backend connects: `redis.url`, else host / port / db / password. */
export function redisDeliveryOptions(
  redis: RedisConfig,
): Pick<RedisDeliveryBackendOptions, 'redis' | 'prefix' | 'connections'> {
  return {
    redis: redis.url ?? {
      host: redis.host,
      port: redis.port,
      db: redis.db,
      ...(redis.password === undefined ? {} : { password: redis.password }),
    },
    prefix: redis.prefix,
    connections: Math.min(redis.maxConnections, MAX_REDIS_DELIVERY_CONNECTIONS),
  }
}

/**
 * Opens the backend `delivery.storeBackend` names; `postgres` uses the gateway's database, `redis` the
 * `redis` section (its connection errors are logged; the calls that fail report their own).
 */
export function openDeliveryBackend(
  config: GatewayConfig,
  database: () => ParleyDatabase | undefined,
  logger?: Logger,
): DeliveryBackend {
  const options = deliveryBackendOptions(config)
  if (config.delivery.storeBackend === 'memory') return createMemoryDeliveryBackend(options)
  if (config.delivery.storeBackend === 'redis') {
    return createRedisDeliveryBackend({
      ...options,
      ...redisDeliveryOptions(config.redis),
      commandTimeoutMs: Math.round(config.stores.timeout * 1000),
      onError: (error) => logger?.warn({ err: error }, 'redis delivery store connection error'),
      onWarning: (message) => logger?.warn(message),
    })
  }
  const opened = database()
  if (opened === undefined) throw new ConfigError('delivery.storeBackend postgres needs a database')
  return createPostgresDeliveryBackend(opened, options)
}
