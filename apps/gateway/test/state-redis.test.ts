import { randomUUID } from 'node:crypto'
import { databaseTargets, useSuiteDatabase } from '@parley/stores/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectionOptions } from '../src/bus/redis-bus.js'
import { RedisConfigSchema } from '../src/config.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const redisUrl = process.env.REDIS_URL

// Needs a real Redis server: CI sets REDIS_URL. The two nodes share one database (in-memory PGlite here,
// as a cluster shares Postgres) and talk over Redis.
describe.skipIf(redisUrl === undefined)(
  'shared state and signaling over the Redis bus (needs REDIS_URL)',
  () => {
    const prefix = `parley-test:${randomUUID()}:`
    const suite = useSuiteDatabase(databaseTargets()[0] as NonNullable<ReturnType<typeof databaseTargets>[0]>)
    const nodes: TestGateway[] = []
    const clients: TestClient[] = []

    beforeAll(async () => {
      for (const nodeId of ['redis-state-1', 'redis-state-2']) {
        nodes.push(
          await startTestGateway(
            { nodeId, redis: { url: redisUrl, prefix }, delivery: { storeBackend: 'postgres' } },
            { database: suite.database },
          ),
        )
      }
    })

    afterAll(async () => {
      for (const client of clients) client.close()
      for (const node of nodes) await node.dispose()
      const redis = new Redis(connectionOptions(RedisConfigSchema.parse({ url: redisUrl })))
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    })

    async function connect(node: number, clientId?: string): Promise<TestClient> {
      const client = await TestClient.connect(
        nodes[node]?.started.wsUrl ?? '',
        clientId === undefined ? {} : { clientId },
      )
      clients.push(client)
      return client
    }

    it('a watcher on one node gets every version written on both, in order, once each', async () => {
      const namespace = `redis-${randomUUID().slice(0, 8)}`
      const watcher = await connect(1)
      await watcher.ok({ type: 'state_watch', namespace, key: 'k' })
      const writers = [await connect(0), await connect(1)]
      for (let value = 1; value <= 10; value += 1) {
        await writers[value % 2]?.ok({ type: 'state_set', namespace, key: 'k', value })
      }
      await watcher.waitUntil(() => watcher.framesOf('state_change').length >= 10, 10_000)
      await watcher.ok({ type: 'state_get', namespace, key: 'k' })
      expect(watcher.framesOf('state_change').map((change) => [change.version, change.value])).toEqual(
        Array.from({ length: 10 }, (_, index) => [index + 1, index + 1]),
      )
    })

    it('relays a signal to a peer on the other node and answers no_route for one nowhere', async () => {
      const alice = await connect(0, `alice-${randomUUID()}`)
      const bobId = `bob-${randomUUID()}`
      const bob = await connect(1, bobId)
      await alice.ok({ type: 'signal', target: bobId, signal: { type: 'offer', sdp: 'v=0' } })
      expect((await bob.next('signal_incoming')).signal).toEqual({ type: 'offer', sdp: 'v=0' })
      expect(
        await alice.request({ type: 'signal', target: `nobody-${randomUUID()}`, signal: { type: 'offer' } }),
      ).toMatchObject({ type: 'error', code: 'no_route' })
    })
  },
)
