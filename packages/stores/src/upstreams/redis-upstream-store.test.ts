import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '../testing.js'
import { createRedisUpstreamStore } from './redis-upstream-store.js'
import type { UpstreamStore } from './types.js'
import { describeUpstreamStoreBehaviour } from './upstream-store.behaviour.js'

const redisUrl = testRedisUrl()

// Needs a server: runs when REDIS_URL is set (as in CI), like the other Redis suites; skipped (with the reason in
// its name) otherwise, so a run without Redis still finds a suite in this file.
describe.skipIf(redisUrl === undefined)(
  redisUrl === undefined
    ? 'Redis upstream store (skipped: needs REDIS_URL, a real Redis server)'
    : 'Redis upstream store',
  () => {
    const url = redisUrl ?? ''
    const filePrefix = testRedisPrefix()
    let tests = 0
    let prefix = filePrefix
    const stores: UpstreamStore[] = []
    let inspector: Redis

    function createStore(): UpstreamStore {
      const store = createRedisUpstreamStore({ redis: url, prefix })
      stores.push(store)
      return store
    }
    async function reset(): Promise<void> {
      await Promise.all(stores.splice(0).map((store) => store.close()))
      tests += 1
      prefix = `${filePrefix}${tests}:`
    }

    beforeAll(() => {
      inspector = new Redis(url)
    })

    afterAll(async () => {
      await reset()
      await inspector?.quit()
      await deleteRedisKeys(url, filePrefix)
    })

    describeUpstreamStoreBehaviour('redis', async () => {
      await reset()
      return { createStore, teardown: reset }
    })

    it('keeps every key under the prefix, and 20 concurrent updates from two nodes each bump the version once', async () => {
      await reset()
      const nodeA = createStore()
      const nodeB = createStore()
      await nodeA.create({ kind: 'a2a', id: 'weather', urls: ['http://w.example/'] }, T0)
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          (index % 2 === 0 ? nodeA : nodeB).update(
            'a2a',
            'weather',
            { settings: { [`k${index}`]: index } },
            T0 + index,
          ),
        ),
      )
      expect(await nodeB.version()).toBe(21)
      for (const name of await inspector.keys(`${prefix}*`))
        expect(name.startsWith(`${prefix}{u}:`)).toBe(true)
    })
  },
)
