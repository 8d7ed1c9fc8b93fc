import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '@parley/stores/testing'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { openDeliveryBackend, redisDeliveryOptions } from './open-delivery-backend.js'

describe('redisDeliveryOptions', () => {
  it('connects by host, port, db and password when no url is set, under the configured prefix', () => {
    const { redis } = parseConfig({
      redis: { host: 'redis.internal', port: 6380, db: 2, password: 'secret', prefix: 'team-a:' },
      delivery: { storeBackend: 'redis' },
    })
    expect(redisDeliveryOptions(redis)).toEqual({
      redis: { host: 'redis.internal', port: 6380, db: 2, password: 'secret' },
      prefix: 'team-a:',
      connections: 4,
    })
  })

  it('prefers the url, and opens no more connections than redis.maxConnections', () => {
    const { redis } = parseConfig({
      redis: { url: 'redis://redis.internal:6379/1', host: 'ignored', maxConnections: 2 },
      delivery: { storeBackend: 'redis' },
    })
    expect(redisDeliveryOptions(redis)).toEqual({
      redis: 'redis://redis.internal:6379/1',
      prefix: 'parley:',
      connections: 2,
    })
  })
})

const redisUrl = testRedisUrl()

// Opening a real backend needs a Redis server: this runs when REDIS_URL is set (as in CI).
if (redisUrl !== undefined) {
  describe('openDeliveryBackend with storeBackend redis', () => {
    it('opens the Redis backend on the configured prefix', async () => {
      const prefix = testRedisPrefix()
      const config = parseConfig({ delivery: { storeBackend: 'redis' }, redis: { url: redisUrl, prefix } })
      const backend = openDeliveryBackend(config, () => undefined)
      try {
        expect(backend.name).toBe('redis')
        const [outcome] = await backend.history.publish([
          { channel: 'opened', id: 'm1', source: 'test', data: 1, timestamp: Date.now() },
        ])
        expect(outcome?.publication.offset).toBe(1)
      } finally {
        await backend.close()
        expect(await deleteRedisKeys(redisUrl, prefix)).toBeGreaterThan(0)
      }
    })
  })
}
