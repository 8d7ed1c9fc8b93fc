import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { ParleyDatabase } from '../database.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { defaultBackendOptions, directMessage, publication, T0 } from './delivery-backend.fixture.js'
import { describeDeliveryStoreBehaviour } from './delivery-store.behaviour.js'
import { describeHistoryStoreBehaviour, expectOneSequenceAcrossNodes } from './history-store.behaviour.js'
import { createPostgresDeliveryBackend } from './postgres-delivery-backend.js'
import type { DeliveryBackend, DeliveryBackendOptions } from './types.js'

const DELIVERY_TABLES = sql`channel_streams, channel_messages, publish_keys, durable_subscriptions, deliveries`

for (const target of databaseTargets({ includeDataDir: true })) {
  describe(`Postgres delivery backend on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const backends: DeliveryBackend[] = []
    function createBackend(
      options: Partial<DeliveryBackendOptions> = {},
      on: ParleyDatabase = suite.database,
    ) {
      const backend = createPostgresDeliveryBackend(on, { ...defaultBackendOptions, ...options })
      backends.push(backend)
      return backend
    }
    async function reset(): Promise<void> {
      await Promise.all(backends.splice(0).map((backend) => backend.close()))
      await suite.database.db.execute(sql`truncate table ${DELIVERY_TABLES} restart identity`)
    }
    const fixture = async () => {
      await reset()
      return {
        createBackend: async (options?: Partial<DeliveryBackendOptions>) => createBackend(options),
        teardown: reset,
      }
    }

    describeHistoryStoreBehaviour(target.label, fixture)
    describeDeliveryStoreBehaviour(target.label, fixture)

    describe('group commit', () => {
      it('rejects every call of a failed transaction, stores none of them, and runs the next one', async () => {
        await reset()
        const { deliveries } = createBackend()
        const existing = directMessage('bob')
        await deliveries.send([existing])
        // Issued in one turn, so they share a transaction; the repeated delivery id fails it.
        const clash = deliveries.send([directMessage('bob', { deliveryId: existing.deliveryId })])
        const innocent = deliveries.send([directMessage('bob')])
        await expect(clash).rejects.toThrow()
        await expect(innocent).rejects.toThrow()
        expect(await deliveries.queued('bob')).toBe(1)
        const [after] = await deliveries.send([directMessage('bob')])
        expect(after?.duplicate).toBe(false)
        expect(await deliveries.queued('bob')).toBe(2)
      })

      it('gives two nodes on one database one contiguous sequence and one first use per key', async () => {
        await reset()
        await suite.withSecondNode(async (second) => {
          const nodeA = createBackend()
          const nodeB = createBackend({}, second)
          await expectOneSequenceAcrossNodes(nodeA.history, nodeB.history)
        })
      })
    })

    describe('publishes without idempotency keys (one statement per batch)', () => {
      it('creates a delivery for each durable subscriber, also for one that subscribed since the last publish', async () => {
        await reset()
        let ids = 0
        const { history, deliveries } = createBackend({ newDeliveryId: () => `dlv-${++ids}` })
        await deliveries.subscribeDurable('alice', 'orders', T0)
        const [first] = await history.publish([publication('orders', 1)])
        await deliveries.subscribeDurable('bob', 'orders', T0)
        const second = await history.publish([publication('orders', 2), publication('orders', 3)])
        expect(first?.deliveries.map((delivery) => delivery.recipient)).toEqual(['alice'])
        expect(second.map((outcome) => outcome.deliveries.map((delivery) => delivery.recipient))).toEqual([
          ['alice', 'bob'],
          ['alice', 'bob'],
        ])
        const created = [first, ...second].flatMap((outcome) => outcome?.deliveries ?? [])
        expect(new Set(created.map((delivery) => delivery.id)).size).toBe(5)
        expect(await deliveries.queued('alice')).toBe(3)
        expect(await deliveries.queued('bob')).toBe(2)
        expect(await deliveries.due('bob', T0 + 10, 10)).toEqual(
          second.map((outcome) =>
            expect.objectContaining({ id: outcome.deliveries[1]?.id, offset: outcome.publication.offset }),
          ),
        )
      })

      it('stores nothing of a batch whose fan-out delivery id is taken', async () => {
        await reset()
        const { history, deliveries } = createBackend({ newDeliveryId: () => 'dlv-taken' })
        await deliveries.send([directMessage('alice', { deliveryId: 'dlv-taken' })])
        await deliveries.subscribeDurable('alice', 'orders', T0)
        await expect(history.publish([publication('orders', 1)])).rejects.toThrow()
        expect((await history.position('orders')).offset).toBe(0)
        expect(await deliveries.queued('alice')).toBe(1)
      })
    })

    it('keeps offsets, epochs and deliveries across a restart, and releaseAll puts in-flight ones back', async () => {
      await reset()
      const before = createBackend()
      await before.deliveries.subscribeDurable('alice', 'orders', T0)
      const published = await before.history.publish([publication('orders', 1), publication('orders', 2)])
      const epoch = published[0]?.publication.epoch
      const [sent] = await before.deliveries.send([directMessage('bob')])
      await before.deliveries.markSent([sent?.delivery.id ?? ''], T0 + 1)
      await before.close()
      if (target.kind !== 'pglite-memory') {
        // A real restart: the database is closed and opened again (in-memory PGlite would lose everything).
        await suite.reopen()
      }

      const after = createBackend()
      expect(await after.history.position('orders')).toEqual({ offset: 2, epoch })
      const read = await after.history.readSince('orders', { offset: 0, epoch: epoch ?? '' }, T0 + 10)
      expect(read.recovered && read.publications.map((stored) => stored.id)).toEqual([
        'msg-orders-1',
        'msg-orders-2',
      ])
      expect(await after.deliveries.durableSubscriptions('alice')).toEqual(['orders'])
      expect(await after.deliveries.queued('alice')).toBe(2)
      expect(await after.deliveries.due('bob', T0 + 10, 10)).toEqual([])
      expect(await after.deliveries.releaseAll()).toBe(1)
      expect(await after.deliveries.due('bob', T0 + 10, 10)).toEqual([
        expect.objectContaining({ id: sent?.delivery.id, attempts: 1, failures: 0, state: 'pending' }),
      ])
      const [next] = await after.history.publish([publication('orders', 3)])
      expect(next?.publication).toMatchObject({ offset: 3, epoch })
      expect(next?.deliveries.map((delivery) => delivery.recipient)).toEqual(['alice'])
      expect(await after.deliveries.counts()).toMatchObject({
        pending: 4,
        inflight: 0,
        durableSubscriptions: 1,
      })
    })
  })
}
