import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '../testing.js'
import { defaultBackendOptions, directMessage, HOUR, publication, T0 } from './delivery-backend.fixture.js'
import { describeDeliveryStoreBehaviour } from './delivery-store.behaviour.js'
import { describeHistoryStoreBehaviour, expectOneSequenceAcrossNodes } from './history-store.behaviour.js'
import { createRedisDeliveryBackend, type RedisDeliveryBackendOptions } from './redis-delivery-backend.js'
import { durabilityWarnings, readDurabilityFacts } from './redis-durability.js'
import type { DeliveryBackend } from './types.js'

const redisUrl = testRedisUrl()

describe('Redis delivery backend without a server', () => {
  it('fails a call within seconds when Redis is unreachable, reports the connection errors, and closes', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise((resolve) => server.close(resolve))
    const errors: Error[] = []
    const backend = createRedisDeliveryBackend({
      ...defaultBackendOptions,
      redis: `redis://127.0.0.1:${port}`,
      onError: (error) => errors.push(error),
    })
    const startedAt = Date.now()
    await expect(backend.history.publish([publication('down', 1)])).rejects.toThrow(/max retries/i)
    expect(Date.now() - startedAt).toBeLessThan(15_000)
    expect(errors.length).toBeGreaterThan(0)
    await backend.close()
  })
})

// The Redis target needs a server: it runs when REDIS_URL is set (as in CI), and is not registered
// otherwise, the same way the Postgres server target needs DATABASE_URL.
if (redisUrl !== undefined) {
  describe('Redis delivery backend', () => {
    const url = redisUrl
    // One prefix for this file, deleted in afterAll; each test gets its own prefix under it, so every
    // test starts with an empty store.
    const filePrefix = testRedisPrefix()
    let tests = 0
    let prefix = filePrefix
    const backends: DeliveryBackend[] = []
    let inspector: Redis

    function createBackend(options: Partial<RedisDeliveryBackendOptions> = {}): DeliveryBackend {
      const backend = createRedisDeliveryBackend({ ...defaultBackendOptions, redis: url, prefix, ...options })
      backends.push(backend)
      return backend
    }
    async function reset(): Promise<void> {
      await Promise.all(backends.splice(0).map((backend) => backend.close()))
      tests += 1
      prefix = `${filePrefix}${tests}:`
    }
    const fixture = async () => {
      await reset()
      return {
        createBackend: async (options?: Partial<RedisDeliveryBackendOptions>) => createBackend(options),
        teardown: reset,
      }
    }

    beforeAll(async () => {
      inspector = new Redis(url)
    })

    afterAll(async () => {
      await reset()
      await inspector?.quit()
      await deleteRedisKeys(url, filePrefix)
    })

    describeHistoryStoreBehaviour('redis', fixture)
    describeDeliveryStoreBehaviour('redis', fixture)

    it('gives two nodes on one prefix one contiguous sequence and one first use per key', async () => {
      await reset()
      const nodeA = createBackend()
      const nodeB = createBackend()
      await expectOneSequenceAcrossNodes(nodeA.history, nodeB.history)
    })

    it('fans out to durable subscriptions as another node changes them, and either node settles', async () => {
      await reset()
      const nodeA = createBackend()
      const nodeB = createBackend()
      await nodeB.deliveries.subscribeDurable('alice', 'orders', T0)
      const [outcome] = await nodeA.history.publish([publication('orders', 1)])
      const delivery = outcome?.deliveries[0]
      expect(delivery?.recipient).toBe('alice')
      await nodeA.deliveries.markSent([delivery?.id ?? ''], T0 + 2)
      expect(await nodeB.deliveries.ack('alice', [delivery?.id ?? ''])).toHaveLength(1)
      expect(await nodeA.deliveries.queued('alice')).toBe(0)
      // Node A has seen alice subscribed; node B ends it, so A's next publish fans out to nobody.
      expect(await nodeB.deliveries.unsubscribeDurable('alice', 'orders')).toBe(true)
      const [later] = await nodeA.history.publish([publication('orders', 2)])
      expect(later?.deliveries).toEqual([])
      expect(await nodeA.deliveries.queued('alice')).toBe(0)
      await nodeB.deliveries.subscribeDurable('bob', 'orders', T0)
      const [again] = await nodeA.history.publish([publication('orders', 3)])
      expect(again?.deliveries.map((created) => created.recipient)).toEqual(['bob'])
    })

    it('keeps offsets, epochs and deliveries when the backend is closed and opened again', async () => {
      await reset()
      const before = createBackend()
      await before.deliveries.subscribeDurable('alice', 'orders', T0)
      const published = await before.history.publish([publication('orders', 1), publication('orders', 2)])
      const epoch = published[0]?.publication.epoch ?? ''
      const [sent] = await before.deliveries.send([directMessage('bob')])
      await before.deliveries.markSent([sent?.delivery.id ?? ''], T0 + 1)
      await before.close()

      const after = createBackend()
      expect(await after.history.position('orders')).toEqual({ offset: 2, epoch })
      const read = await after.history.readSince('orders', { offset: 0, epoch }, T0 + 10)
      expect(read.recovered && read.publications.map((stored) => stored.id)).toEqual([
        'msg-orders-1',
        'msg-orders-2',
      ])
      expect(await after.deliveries.durableSubscriptions('alice')).toEqual(['orders'])
      expect(await after.deliveries.queued('alice')).toBe(2)
      expect(await after.deliveries.releaseAll()).toBe(1)
      expect(await after.deliveries.due('bob', T0 + 10, 10)).toEqual([
        expect.objectContaining({ id: sent?.delivery.id, attempts: 1, failures: 0, state: 'pending' }),
      ])
      const [next] = await after.history.publish([publication('orders', 3)])
      expect(next?.publication).toMatchObject({ offset: 3, epoch })
      expect(next?.deliveries.map((delivery) => delivery.recipient)).toEqual(['alice'])
    })

    it('starts a new epoch when the channel data is lost, so an old position is not replayed', async () => {
      await reset()
      const backend = createBackend()
      await backend.history.publish([publication('lost', 1), publication('lost', 2)])
      const before = await backend.history.position('lost')
      // As after a Redis restart without persistence: the stream's keys are gone.
      expect(await deleteRedisKeys(url, `${prefix}{d}:S:lost`)).toBe(1)
      const after = await backend.history.position('lost')
      expect(after.offset).toBe(0)
      expect(after.epoch).not.toBe(before.epoch)
      expect(await backend.history.readSince('lost', before, T0 + 10)).toEqual({
        recovered: false,
        position: after,
      })
      const [republished] = await backend.history.publish([publication('lost', 3)])
      expect(republished?.publication).toMatchObject({ offset: 1, epoch: after.epoch })
      const read = await backend.history.readSince('lost', { offset: 0, epoch: after.epoch }, T0 + 10)
      expect(read.recovered && read.publications.map((stored) => stored.id)).toEqual(['msg-lost-3'])
    })

    it('bounds its keys: history trimmed on append, streams and idempotency keys with a TTL', async () => {
      await reset()
      const backend = createBackend({
        retention: () => ({ size: 3, ttlMs: HOUR }),
        idleStreamTtlMs: 2 * HOUR,
      })
      for (let index = 1; index <= 6; index += 1) {
        await backend.history.publish([publication('bounded', index, { idempotencyKey: `k${index}` })])
      }
      const base = `${prefix}{d}:`
      expect(await inspector.llen(`${base}H:bounded`)).toBe(3)
      for (const key of [`${base}S:bounded`, `${base}H:bounded`]) {
        const ttl = await inspector.pttl(key)
        expect(ttl, key).toBeGreaterThan(HOUR)
        expect(ttl, key).toBeLessThanOrEqual(2 * HOUR)
      }
      const keyTtl = await inspector.pttl(`${base}K:["publish","bounded"]k1`)
      expect(keyTtl).toBeGreaterThan(0)
      expect(keyTtl).toBeLessThanOrEqual(defaultBackendOptions.dedupeWindowMs)
      const [nextCursor, keys] = await inspector.scan('0', 'MATCH', `${filePrefix}*`, 'COUNT', 10_000)
      expect(nextCursor === '0' || keys.length > 0).toBe(true)
      expect(keys.every((key) => key.startsWith(filePrefix) && key.includes('{d}:'))).toBe(true)
    })

    it('starts a new epoch once an idle channel has outlived its TTL', async () => {
      await reset()
      const backend = createBackend({
        retention: () => ({ size: 10, ttlMs: 50 }),
        dedupeWindowMs: 50,
        idleStreamTtlMs: 50,
      })
      const [first] = await backend.history.publish([publication('idle', 1)])
      const base = `${prefix}{d}:`
      const deadline = Date.now() + 10_000
      while ((await inspector.exists(`${base}S:idle`, `${base}H:idle`)) > 0) {
        if (Date.now() > deadline) throw new Error('the idle stream did not expire')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const position = await backend.history.position('idle')
      expect(position.offset).toBe(0)
      expect(position.epoch).not.toBe(first?.publication.epoch)
    })

    it('refuses a publish whose fan-out delivery id is taken, and stores none of it', async () => {
      await reset()
      const backend = createBackend({ newDeliveryId: () => 'dlv-taken' })
      await backend.deliveries.send([directMessage('alice', { deliveryId: 'dlv-taken' })])
      await backend.deliveries.subscribeDurable('alice', 'orders', T0)
      await expect(backend.history.publish([publication('orders', 1)])).rejects.toThrow(/already exists/)
      expect((await backend.history.position('orders')).offset).toBe(0)
      expect(await backend.deliveries.queued('alice')).toBe(1)
      expect(await backend.deliveries.due('alice', T0 + 10, 10)).toEqual([
        expect.objectContaining({ id: 'dlv-taken', kind: 'direct' }),
      ])
    })

    it('accepts windows and TTLs in fractions of a millisecond, as a config in seconds can give', async () => {
      await reset()
      const backend = createBackend({
        dedupeWindowMs: 1_500.5,
        messageTtlMs: 10_000.25,
        retention: () => ({ size: 10, ttlMs: 2_000.75 }),
      })
      await backend.deliveries.subscribeDurable('alice', 'fractions', T0)
      const [first] = await backend.history.publish([publication('fractions', 1, { idempotencyKey: 'k' })])
      const [repeat] = await backend.history.publish([publication('fractions', 2, { idempotencyKey: 'k' })])
      expect(repeat).toEqual({ publication: first?.publication, duplicate: true, deliveries: [] })
      expect(first?.deliveries[0]?.expiresAt).toBe(T0 + 1 + 10_000.25)
      const [sent] = await backend.deliveries.send([directMessage('bob', { idempotencyKey: 'k' })])
      const [again] = await backend.deliveries.send([directMessage('bob', { idempotencyKey: 'k' })])
      expect(again).toEqual({ delivery: sent?.delivery, duplicate: true })
    })

    it('tells onWarning, once connected, why this server may lose data', async () => {
      await reset()
      const warnings: string[] = []
      const backend = createBackend({ onWarning: (message) => warnings.push(message) })
      await backend.history.position('any')
      await backend.close()
      expect(warnings).toEqual(durabilityWarnings(await readDurabilityFacts(inspector)))
    })
  })
}
