import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '../testing.js'
import { createRedisTaskStore, type RedisTaskStoreOptions } from './redis-task-store.js'
import { describeTaskStoreBehaviour } from './task-store.behaviour.js'
import { artifactEvent, concurrentAppends, OWNER, statusEvent, taskInput } from './task-store.fixture.js'
import type { TaskStore } from './types.js'

const redisUrl = testRedisUrl()
const secretKey = randomBytes(32)

describe('Redis task store without a server', () => {
  it('refuses to start without a secretKey for the push secrets', () => {
    expect(() => createRedisTaskStore({ redis: { lazyConnect: true } })).toThrow(/secretKey/)
  })
})

// Needs a server: runs when REDIS_URL is set (as in CI), like the Redis delivery suites.
if (redisUrl !== undefined) {
  describe('Redis task store', () => {
    const url = redisUrl
    // One prefix for this file, deleted in afterAll; each test gets its own prefix under it.
    const filePrefix = testRedisPrefix()
    let tests = 0
    let prefix = filePrefix
    const stores: TaskStore[] = []
    let inspector: Redis

    function createStore(options: Partial<RedisTaskStoreOptions> = {}): TaskStore {
      const store = createRedisTaskStore({ redis: url, prefix, secretKey, ...options })
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

    describeTaskStoreBehaviour('redis', async () => {
      await reset()
      return { createStore: (options) => createStore(options), teardown: reset }
    })

    it('gives 40 concurrent appends spread over two nodes on one prefix the sequence numbers 1 to 40, each once', async () => {
      await reset()
      const nodeA = createStore()
      const nodeB = createStore()
      await nodeA.create(taskInput('t-1'))
      const seqs = await concurrentAppends([nodeA, nodeB], 't-1', 40)
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
      const events = await nodeB.events('t-1', { owner: OWNER })
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
      expect((await nodeA.get('t-1', { owner: OWNER }))?.artifacts).toHaveLength(40)
    })

    it('keeps tasks, events and push configs when the store is closed and opened again', async () => {
      await reset()
      const before = createStore()
      await before.create(taskInput('t-1', { message: { messageId: 'm-1' } }))
      await before.appendEvent('t-1', statusEvent('working'))
      await before.appendEvent('t-1', artifactEvent('a', ['x']))
      await before.setPushConfig(
        't-1',
        { owner: OWNER },
        { id: 'hook', url: 'https://a.example/h', token: 'tok' },
      )
      const task = await before.get('t-1', { owner: OWNER })
      await before.close()
      const after = createStore()
      expect(await after.get('t-1', { owner: OWNER })).toEqual(task)
      expect((await after.events('t-1', { owner: OWNER })).map((event) => event.seq)).toEqual([1, 2, 3])
      expect((await after.pushTargets('t-1'))[0]?.token).toBe('tok')
      expect((await after.appendEvent('t-1', statusEvent('completed'))).event.seq).toBe(4)
    })

    it("pages and filters an owner's 1,100 tasks across the store's 500-id read batches", async () => {
      await reset()
      const tasks = createStore()
      await Promise.all(
        Array.from({ length: 1_100 }, (_, index) =>
          tasks.create(
            taskInput(`t-${String(index).padStart(4, '0')}`, {
              now: T0 + Math.floor(index / 3),
              state: index % 4 === 0 ? 'working' : 'submitted',
            }),
          ),
        ),
      )
      const seen: string[] = []
      let pageToken: string | undefined
      do {
        const page = await tasks.list({ owner: OWNER, pageSize: 100, pageToken })
        expect(page.total).toBe(1_100)
        seen.push(...page.tasks.map((task) => task.id))
        pageToken = page.nextPageToken ?? undefined
      } while (pageToken !== undefined)
      const newestFirst = Array.from(
        { length: 1_100 },
        (_, index) => `t-${String(1_099 - index).padStart(4, '0')}`,
      )
      expect(seen).toEqual(newestFirst)
      const working = await tasks.list({ owner: OWNER, state: 'working', pageSize: 100 })
      expect(working.total).toBe(275)
      expect(working.tasks.map((task) => task.id)).toEqual(
        newestFirst.filter((id) => Number(id.slice(2)) % 4 === 0).slice(0, 100),
      )
    })

    it('keeps every key under the prefix and the token only as ciphertext, and leaves no key after retention', async () => {
      await reset()
      const tasks = createStore()
      await tasks.create(taskInput('t-1', { message: { messageId: 'm-1' } }))
      await tasks.setPushConfig(
        't-1',
        { owner: OWNER },
        { id: 'hook', url: 'https://a.example/h', token: 'tok-plain' },
      )
      await tasks.appendEvent('t-1', statusEvent('completed'))
      const keys = await inspector.keys(`${prefix}*`)
      expect(keys.length).toBeGreaterThan(0)
      for (const name of keys) expect(name.startsWith(`${prefix}{t}:`)).toBe(true)
      const configs = await inspector.hgetall(`${prefix}{t}:P:t-1`)
      expect(JSON.stringify(configs)).not.toMatch(/tok-plain/)
      expect(await tasks.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(1)
      expect(await inspector.keys(`${prefix}*`)).toEqual([])
    })
  })
}
