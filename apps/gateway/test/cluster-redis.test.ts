import { randomUUID } from 'node:crypto'
import { Health, NodeList } from '@parley/protocol'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionOptions } from '../src/bus/redis-bus.js'
import { RedisConfigSchema } from '../src/config.js'
import { startTestGateway, TEST_ADMIN_TOKEN } from './support/test-gateway.js'

const redisUrl = process.env.REDIS_URL

// Needs a real Redis server: CI sets REDIS_URL; without it there is no bus to open.
describe.skipIf(redisUrl === undefined)('a gateway with Redis configured', () => {
  const prefix = `parley-test:${randomUUID()}:`
  const redis = new Redis(connectionOptions(RedisConfigSchema.parse({ url: redisUrl })))

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  it('opens the Redis bus at start, registers itself, and leaves the registry and closes the bus at stop', async () => {
    const node = await startTestGateway({
      nodeId: 'redis-node',
      redis: { url: redisUrl, prefix },
      databaseUrl: 'memory://',
      delivery: { storeBackend: 'postgres' },
    })
    let stopped = false
    try {
      const health = Health.parse(await (await fetch(`${node.started.url}/health`)).json())
      expect(health.status).toBe('ok')
      const listed = NodeList.parse(
        await (
          await fetch(`${node.started.url}/api/admin/nodes`, {
            headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
          })
        ).json(),
      )
      expect(listed.nodes).toEqual([expect.objectContaining({ id: 'redis-node', bus: 'ok', self: true })])
      expect(await redis.hexists(`${prefix}entries:nodes`, 'redis-node')).toBe(1)
      const subscribers = async () =>
        ((await redis.client('LIST')) as string).split('\n').filter((line) => / sub=[1-9]/.test(line)).length
      const before = await subscribers()
      expect(before).toBeGreaterThan(0)
      await node.gateway.stop()
      stopped = true
      expect(await redis.hexists(`${prefix}entries:nodes`, 'redis-node')).toBe(0)
      expect(await subscribers()).toBeLessThan(before)
    } finally {
      if (!stopped) await node.gateway.stop()
      await node.dispose()
    }
  })

  it('refuses to start when Redis does not answer', async () => {
    await expect(
      startTestGateway({
        redis: { url: 'redis://127.0.0.1:1', prefix },
        databaseUrl: 'memory://',
        delivery: { storeBackend: 'postgres' },
      }),
    ).rejects.toThrow(/Redis at 127\.0\.0\.1:1 did not answer/)
  }, 30_000)
})
