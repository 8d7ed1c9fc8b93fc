import { databaseTargets, deleteRedisKeys, testRedisPrefix, testRedisUrl } from '@parley/stores/testing'
import type { GatewayConfigInput } from '../../src/config.js'

export interface PreparedTarget {
  /** Config input selecting the backend (and its database). */
  config: GatewayConfigInput
  dispose(): Promise<void>
}

export interface DeliveryTarget {
  backend: 'memory' | 'postgres' | 'redis'
  label: string
  prepare(): Promise<PreparedTarget>
}

/**
 * Delivery backends a server-level suite runs against: memory always, and postgres on in-memory PGlite
 * plus the local server when `DATABASE_URL` is set (a fresh database per preparation), and redis when
 * `REDIS_URL` is set (a fresh key prefix per preparation, its keys deleted on dispose). Without REDIS_URL
 * there is no server to run the redis target on, so it is not registered.
 */
export function deliveryTargets(): DeliveryTarget[] {
  const targets: DeliveryTarget[] = [
    {
      backend: 'memory',
      label: 'memory backend',
      prepare: async () => ({ config: { delivery: { storeBackend: 'memory' } }, dispose: async () => {} }),
    },
  ]
  for (const target of databaseTargets()) {
    targets.push({
      backend: 'postgres',
      label: `postgres backend on ${target.label}`,
      prepare: async () => {
        const database = await target.create()
        return {
          config: {
            delivery: { storeBackend: 'postgres' },
            ...(database.url === undefined ? {} : { databaseUrl: database.url }),
          },
          dispose: () => database.drop(),
        }
      },
    })
  }
  const redisUrl = testRedisUrl()
  if (redisUrl !== undefined) {
    targets.push({
      backend: 'redis',
      label: `redis backend (${new URL(redisUrl).host})`,
      prepare: async () => {
        const prefix = testRedisPrefix()
        return {
          config: { delivery: { storeBackend: 'redis' }, redis: { url: redisUrl, prefix } },
          dispose: async () => {
            await deleteRedisKeys(redisUrl, prefix)
          },
        }
      },
    })
  }
  return targets
}
