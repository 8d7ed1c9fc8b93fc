import type { DeadLetter } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidCursorError } from '../errors.js'
import {
  type DeliveryBackendFixture,
  directMessage,
  HOUR,
  publication,
  T0,
} from './delivery-backend.fixture.js'
import { describeOperatorViews } from './delivery-store-operator.behaviour.js'
import type { DeadLetterListQuery, DeliveryStore, HistoryStore, StoredDelivery } from './types.js'

/**
 * The behaviour every DeliveryStore must show: durable fan-out, direct messages, due order, acks,
 * retries, expiry and the dead-letter queue. Each implementation's test file runs it with its own fixture.
 */
export function describeDeliveryStoreBehaviour(
  label: string,
  setup: () => Promise<DeliveryBackendFixture>,
): void {
  describe(`DeliveryStore behaviour: ${label}`, () => {
    let fixture: DeliveryBackendFixture
    let history: HistoryStore
    let deliveries: DeliveryStore
    let deliveryIds = 0

    beforeEach(async () => {
      fixture = await setup()
      const backend = await fixture.createBackend({
        newDeliveryId: () => {
          deliveryIds += 1
          return `dlv-fanout-${deliveryIds}`
        },
      })
      history = backend.history
      deliveries = backend.deliveries
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    async function sendOne(recipient: string, overrides: Parameters<typeof directMessage>[1] = {}) {
      const [outcome] = await deliveries.send([directMessage(recipient, overrides)])
      if (outcome === undefined) throw new Error('send returned nothing')
      return outcome.delivery
    }

    /** A dead letter of `recipient`, dead at `deadAt`. */
    async function deadLetter(
      recipient: string,
      deadAt: number,
      overrides: Parameters<typeof directMessage>[1] = {},
    ): Promise<StoredDelivery> {
      const delivery = await sendOne(recipient, overrides)
      await deliveries.markSent([delivery.id], deadAt - 1)
      const dead = await deliveries.fail(recipient, delivery.id, { dead: 'max_retries' }, 'timeout', deadAt)
      expect(dead?.state).toBe('dead')
      return delivery
    }

    async function listAll(query: Omit<DeadLetterListQuery, 'cursor'>): Promise<DeadLetter[]> {
      const all: DeadLetter[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 100; pages += 1) {
        const page = await deliveries.listDeadLetters({ ...query, cursor })
        expect(page.deadLetters.length).toBeLessThanOrEqual(query.limit)
        all.push(...page.deadLetters)
        if (page.nextCursor === null) return all
        cursor = page.nextCursor
      }
      throw new Error('pagination did not end')
    }

    describe('durable subscriptions', () => {
      it('creates one delivery per durable subscriber and publication, in the publish commit', async () => {
        await deliveries.subscribeDurable('alice', 'orders', T0)
        await deliveries.subscribeDurable('bob', 'orders', T0)
        await deliveries.subscribeDurable('bob', 'orders', T0) // idempotent
        await deliveries.subscribeDurable('carol', 'other', T0)
        const outcomes = await history.publish([publication('orders', 1), publication('orders', 2)])
        const [first] = outcomes
        expect(first?.deliveries).toHaveLength(2)
        expect(first?.deliveries.map((delivery) => delivery.recipient).sort()).toEqual(['alice', 'bob'])
        const toAlice = first?.deliveries.find((delivery) => delivery.recipient === 'alice')
        expect(toAlice).toEqual({
          id: expect.stringMatching(/^dlv-fanout-\d+$/),
          messageId: 'msg-orders-1',
          kind: 'channel',
          recipient: 'alice',
          source: 'publisher',
          channel: 'orders',
          offset: 1,
          epoch: first?.publication.epoch,
          data: { index: 1, text: 'hello 1' },
          createdAt: T0 + 1,
          expiresAt: T0 + 1 + HOUR,
          attempts: 0,
          failures: 0,
          nextAttemptAt: T0 + 1,
          state: 'pending',
          receipt: false,
          lastError: null,
          fromAgent: null,
          traceId: null,
        })
        const due = await deliveries.due('alice', T0 + 10, 10)
        expect(due.map((delivery) => [delivery.offset, delivery.messageId])).toEqual([
          [1, 'msg-orders-1'],
          [2, 'msg-orders-2'],
        ])
        expect(due[0]).toEqual(toAlice)
        expect(await deliveries.queued('bob')).toBe(2)
        expect(await deliveries.queued('carol')).toBe(0)
        expect(await deliveries.durableSubscriptions('bob')).toEqual(['orders'])
        const ids = outcomes.flatMap((outcome) => outcome.deliveries.map((delivery) => delivery.id))
        expect(new Set(ids).size).toBe(4)
      })

      it('creates no delivery for a duplicate publish', async () => {
        await deliveries.subscribeDurable('alice', 'orders', T0)
        await history.publish([publication('orders', 1, { idempotencyKey: 'once' })])
        const [repeat] = await history.publish([publication('orders', 2, { idempotencyKey: 'once' })])
        expect(repeat?.duplicate).toBe(true)
        expect(repeat?.deliveries).toEqual([])
        expect(await deliveries.queued('alice')).toBe(1)
      })

      it('stops new deliveries after unsubscribeDurable and keeps the queued ones', async () => {
        await deliveries.subscribeDurable('alice', 'orders', T0)
        await deliveries.subscribeDurable('alice', 'news', T0)
        expect(await deliveries.durableSubscriptions('alice')).toEqual(['news', 'orders'])
        await history.publish([publication('orders', 1)])
        expect(await deliveries.unsubscribeDurable('alice', 'orders')).toBe(true)
        expect(await deliveries.unsubscribeDurable('alice', 'orders')).toBe(false)
        expect(await deliveries.unsubscribeDurable('nobody', 'orders')).toBe(false)
        const [later] = await history.publish([publication('orders', 2)])
        expect(later?.deliveries).toEqual([])
        expect(await deliveries.queued('alice')).toBe(1)
        expect(await deliveries.durableSubscriptions('alice')).toEqual(['news'])
      })
    })

    describe('direct messages', () => {
      it('stores a direct message as a pending delivery with every field', async () => {
        const input = directMessage('bob', { receipt: true, data: { hello: ['world'] } })
        const [outcome] = await deliveries.send([input])
        expect(outcome).toEqual({
          duplicate: false,
          delivery: {
            id: input.deliveryId,
            messageId: input.messageId,
            kind: 'direct',
            recipient: 'bob',
            source: 'sender',
            channel: null,
            offset: null,
            epoch: null,
            data: { hello: ['world'] },
            createdAt: T0,
            expiresAt: T0 + HOUR,
            attempts: 0,
            failures: 0,
            nextAttemptAt: T0,
            state: 'pending',
            receipt: true,
            lastError: null,
            fromAgent: null,
            traceId: null,
          },
        })
        expect(await deliveries.due('bob', T0, 10)).toEqual([outcome?.delivery])
      })

      it('keeps the sending agent and trace id on the row: a fresh store instance reads them back', async () => {
        const tagged = await sendOne('bob', { fromAgent: 'planner', traceId: 'trace-1' })
        const untagged = await sendOne('bob', { timestamp: T0 + 1 })
        expect(tagged).toMatchObject({ fromAgent: 'planner', traceId: 'trace-1' })
        // Another instance over the same store, as after a restart of the process.
        const fresh = (await fixture.createBackend()).deliveries
        const due = await fresh.due('bob', T0 + 10, 10)
        expect(due.map((delivery) => [delivery.id, delivery.fromAgent, delivery.traceId])).toEqual([
          [tagged.id, 'planner', 'trace-1'],
          [untagged.id, null, null],
        ])
        await fresh.markSent([tagged.id], T0 + 10)
        const retried = await fresh.fail('bob', tagged.id, { retryAt: T0 + 20 }, 'ack timeout', T0 + 11)
        expect(retried).toMatchObject({ fromAgent: 'planner', traceId: 'trace-1' })
        await fresh.markSent([tagged.id], T0 + 20)
        await fresh.fail('bob', tagged.id, { dead: 'max_retries' }, 'ack timeout', T0 + 21)
        const requeued = await deliveries.requeue(tagged.id, T0 + 30, T0 + HOUR)
        expect(requeued).toMatchObject({ fromAgent: 'planner', traceId: 'trace-1' })
      })

      it('keeps the webhook kind of a delivery through due, dead-lettering, filtering and requeue', async () => {
        const recipient = 'webhook/task-1/hook-1'
        const first = await sendOne(recipient, { kind: 'webhook', data: { notification: 1 } })
        const second = await sendOne(recipient, {
          kind: 'webhook',
          data: { notification: 2 },
          timestamp: T0 + 1,
        })
        expect(first.kind).toBe('webhook')
        expect((await deliveries.due(recipient, T0 + 10, 10)).map((item) => [item.id, item.kind])).toEqual([
          [first.id, 'webhook'],
          [second.id, 'webhook'],
        ])
        await deliveries.markSent([first.id], T0 + 10)
        await deliveries.fail(recipient, first.id, { dead: 'max_retries' }, 'HTTP 500', T0 + 11)
        await deadLetter('bob', T0 + 12)
        const [letter] = (await deliveries.listDeadLetters({ limit: 10, kind: 'webhook' })).deadLetters
        expect(letter).toMatchObject({ id: first.id, kind: 'webhook', recipient, lastError: 'HTTP 500' })
        expect((await deliveries.listDeadLetters({ limit: 10, kind: 'webhook' })).deadLetters).toHaveLength(1)
        expect((await deliveries.requeue(first.id, T0 + 20, T0 + HOUR))?.kind).toBe('webhook')
        expect((await deliveries.due(recipient, T0 + 20, 1))[0]?.id).toBe(first.id)
      })

      it('scopes send idempotency keys to (source, recipient), also within one call', async () => {
        const outcomes = await deliveries.send([
          directMessage('bob', { idempotencyKey: 'k' }),
          directMessage('bob', { idempotencyKey: 'k' }),
          directMessage('carol', { idempotencyKey: 'k' }),
          directMessage('bob', { idempotencyKey: 'k', source: 'other-sender' }),
        ])
        expect(outcomes.map((outcome) => outcome.duplicate)).toEqual([false, true, false, false])
        expect(outcomes[1]?.delivery).toEqual(outcomes[0]?.delivery)
        const [later] = await deliveries.send([
          directMessage('bob', { idempotencyKey: 'k', timestamp: T0 + 5 }),
        ])
        expect(later).toEqual({ duplicate: true, delivery: outcomes[0]?.delivery })
        expect(await deliveries.queued('bob')).toBe(2)
        expect(await deliveries.queued('carol')).toBe(1)
      })

      it('answers a repeat that reuses the first delivery id as a duplicate', async () => {
        const first = directMessage('bob', { idempotencyKey: 'retry' })
        await deliveries.send([first])
        const [repeat] = await deliveries.send([{ ...first, timestamp: T0 + 1 }])
        expect(repeat?.duplicate).toBe(true)
        expect(repeat?.delivery.id).toBe(first.deliveryId)
        expect(await deliveries.queued('bob')).toBe(1)
      })

      it('stores each send key once when repeated concurrently', async () => {
        const calls = []
        for (let repeat = 0; repeat < 3; repeat += 1) {
          for (let key = 0; key < 100; key += 1) {
            calls.push(deliveries.send([directMessage('bob', { idempotencyKey: `key-${key}` })]))
          }
        }
        const outcomes = (await Promise.all(calls)).flat()
        expect(outcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(100)
        expect(await deliveries.queued('bob')).toBe(100)
      })
    })

    describe('due, markSent and release', () => {
      it('returns due deliveries oldest first, respecting nextAttemptAt, expiry, in-flight and limit', async () => {
        const late = await sendOne('bob', { timestamp: T0 + 30 })
        const early = await sendOne('bob', { timestamp: T0 + 10 })
        const middle = await sendOne('bob', { timestamp: T0 + 20 })
        const expired = await sendOne('bob', { timestamp: T0 + 5, expiresAt: T0 + 40 })
        await sendOne('carol', { timestamp: T0 })
        const ids = async (now: number, limit = 10) =>
          (await deliveries.due('bob', now, limit)).map((delivery) => delivery.id)

        expect(await ids(T0 + 30)).toEqual([expired.id, early.id, middle.id, late.id])
        expect(await ids(T0 + 20)).toEqual([expired.id, early.id, middle.id])
        expect(await ids(T0 + 30, 2)).toEqual([expired.id, early.id])
        expect(await ids(T0 + 40)).toEqual([early.id, middle.id, late.id])

        await deliveries.markSent([early.id], T0 + 30)
        expect(await ids(T0 + 30)).toEqual([expired.id, middle.id, late.id])

        // A scheduled retry is not due before its time.
        await deliveries.fail('bob', early.id, { retryAt: T0 + 100 }, 'nack', T0 + 31)
        expect(await ids(T0 + 99)).not.toContain(early.id)
        expect(await ids(T0 + 100)).toContain(early.id)
        expect(await deliveries.nextDueAt('bob')).toBe(T0 + 5)
        expect(await deliveries.nextDueAt('nobody')).toBeUndefined()
      })

      it('orders channel deliveries of one timestamp by offset', async () => {
        await deliveries.subscribeDurable('alice', 'ticks', T0)
        await history.publish([1, 2, 3, 4].map((index) => publication('ticks', index, { timestamp: T0 })))
        const due = await deliveries.due('alice', T0, 10)
        expect(due.map((delivery) => delivery.offset)).toEqual([1, 2, 3, 4])
      })

      it('counts attempts in markSent and puts deliveries back without a failure in release', async () => {
        const delivery = await sendOne('bob')
        await deliveries.markSent([delivery.id], T0 + 1)
        expect(await deliveries.due('bob', T0 + 1, 10)).toEqual([])
        expect(await deliveries.queued('bob')).toBe(1)
        expect(await deliveries.counts()).toMatchObject({ pending: 0, inflight: 1 })
        await deliveries.release([delivery.id])
        const [again] = await deliveries.due('bob', T0 + 2, 10)
        expect(again).toMatchObject({ id: delivery.id, attempts: 1, failures: 0, state: 'pending' })
        await deliveries.markSent([delivery.id], T0 + 3)
        await deliveries.release([delivery.id])
        expect((await deliveries.due('bob', T0 + 4, 10))[0]).toMatchObject({ attempts: 2, failures: 0 })
      })

      it('releases every in-flight delivery with releaseAll', async () => {
        const first = await sendOne('bob')
        const second = await sendOne('carol')
        await sendOne('carol')
        await deliveries.markSent([first.id, second.id], T0 + 1)
        expect(await deliveries.releaseAll()).toBe(2)
        expect(await deliveries.releaseAll()).toBe(0)
        expect(await deliveries.counts()).toMatchObject({ pending: 3, inflight: 0 })
      })

      it('lists the recipients with live deliveries under a prefix, once each', async () => {
        await sendOne('webhook/t-2/a', { kind: 'webhook' })
        await sendOne('webhook/t-1/a', { kind: 'webhook' })
        await sendOne('webhook/t-1/a', { kind: 'webhook' })
        const settled = await sendOne('webhook/t-3/a', { kind: 'webhook' })
        const dead = await sendOne('webhook/t-4/a', { kind: 'webhook' })
        const inflight = await sendOne('webhook/t-5/a', { kind: 'webhook' })
        await sendOne('webhooker', {})
        await deliveries.ack('webhook/t-3/a', [settled.id])
        await deliveries.fail('webhook/t-4/a', dead.id, { dead: 'max_retries' }, 'HTTP 500', T0 + 1)
        await deliveries.markSent([inflight.id], T0 + 1)
        expect(await deliveries.liveRecipients('webhook/', 10)).toEqual([
          'webhook/t-1/a',
          'webhook/t-2/a',
          'webhook/t-5/a',
        ])
        expect(await deliveries.liveRecipients('webhook/', 2)).toHaveLength(2)
        expect(await deliveries.liveRecipients('nobody/', 10)).toEqual([])
      })

      it('tells the earliest nextAttemptAt among pending deliveries', async () => {
        const first = await sendOne('bob', { timestamp: T0 + 50 })
        await sendOne('bob', { timestamp: T0 + 70 })
        expect(await deliveries.nextDueAt('bob')).toBe(T0 + 50)
        await deliveries.markSent([first.id], T0 + 50)
        expect(await deliveries.nextDueAt('bob')).toBe(T0 + 70)
      })
    })

    describe('ack', () => {
      it('settles a delivery once, and only for its recipient', async () => {
        const first = await sendOne('bob')
        const second = await sendOne('bob')
        await deliveries.markSent([first.id], T0 + 1)
        expect(await deliveries.ack('mallory', [first.id])).toEqual([])
        const settled = await deliveries.ack('bob', [first.id, second.id, 'unknown'])
        expect(settled.map((delivery) => delivery.id).sort()).toEqual([first.id, second.id].sort())
        expect(settled.find((delivery) => delivery.id === first.id)).toMatchObject({
          state: 'inflight',
          attempts: 1,
        })
        expect(await deliveries.ack('bob', [first.id, second.id])).toEqual([])
        expect(await deliveries.queued('bob')).toBe(0)
      })

      it('settles each delivery for exactly one of many concurrent acks', async () => {
        const sent = await Promise.all(Array.from({ length: 300 }, () => sendOne('bob')))
        await deliveries.markSent(
          sent.map((delivery) => delivery.id),
          T0 + 1,
        )
        expect(await deliveries.counts()).toMatchObject({ pending: 0, inflight: 300 })
        const acks = await Promise.all(
          [...sent, ...sent].map((delivery) => deliveries.ack('bob', [delivery.id])),
        )
        expect(acks.flat()).toHaveLength(300)
        expect(new Set(acks.flat().map((delivery) => delivery.id)).size).toBe(300)
        expect(await deliveries.queued('bob')).toBe(0)
      })

      it('does not settle a dead letter', async () => {
        const dead = await deadLetter('bob', T0 + 10)
        expect(await deliveries.ack('bob', [dead.id])).toEqual([])
        expect(await deliveries.getDeadLetter(dead.id)).toBeDefined()
      })
    })

    describe('fail', () => {
      it('schedules a retry, counting the failure and keeping the error', async () => {
        const delivery = await sendOne('bob')
        await deliveries.markSent([delivery.id], T0 + 1)
        const retried = await deliveries.fail(
          'bob',
          delivery.id,
          { retryAt: T0 + 500 },
          'ack timeout',
          T0 + 2,
        )
        expect(retried).toMatchObject({
          id: delivery.id,
          state: 'pending',
          attempts: 1,
          failures: 1,
          nextAttemptAt: T0 + 500,
          lastError: 'ack timeout',
        })
        expect(await deliveries.nextDueAt('bob')).toBe(T0 + 500)
        expect(await deliveries.fail('mallory', delivery.id, { retryAt: T0 }, null, T0)).toBeUndefined()
        expect(await deliveries.fail('bob', 'unknown', { retryAt: T0 }, null, T0)).toBeUndefined()
      })

      it('dead-letters exactly once, even with two concurrent fails of the last attempt', async () => {
        const delivery = await sendOne('bob', { data: { important: true } })
        await deliveries.markSent([delivery.id], T0 + 1)
        const results = await Promise.all([
          deliveries.fail('bob', delivery.id, { dead: 'max_retries' }, 'ack timeout', T0 + 2),
          deliveries.fail('bob', delivery.id, { dead: 'max_retries' }, 'ack timeout', T0 + 2),
        ])
        expect(results.filter((result) => result !== undefined)).toHaveLength(1)
        expect(results.find((result) => result !== undefined)).toMatchObject({ state: 'dead', failures: 1 })
        expect(await deliveries.counts()).toMatchObject({ pending: 0, inflight: 0, deadLetters: 1 })
        expect(await deliveries.queued('bob')).toBe(0)
        expect(await deliveries.due('bob', T0 + HOUR - 1, 10)).toEqual([])
        expect(await deliveries.getDeadLetter(delivery.id)).toEqual({
          id: delivery.id,
          messageId: delivery.messageId,
          kind: 'direct',
          recipient: 'bob',
          source: 'sender',
          channel: null,
          data: { important: true },
          attempts: 1,
          reason: 'max_retries',
          lastError: 'ack timeout',
          createdAt: new Date(T0).toISOString(),
          deadAt: new Date(T0 + 2).toISOString(),
          requeues: 0,
          requeuedAt: null,
          attemptsThisLife: 1,
        })
        expect(
          await deliveries.fail('bob', delivery.id, { dead: 'rejected' }, 'again', T0 + 3),
        ).toBeUndefined()
      })
    })

    describe('expire', () => {
      it('removes and returns expired deliveries, which are never due again', async () => {
        const short = await sendOne('bob', { expiresAt: T0 + 100 })
        const inflight = await sendOne('bob', { expiresAt: T0 + 100 })
        const long = await sendOne('bob', { expiresAt: T0 + 10_000 })
        await deliveries.markSent([inflight.id], T0 + 1)
        await deadLetter('carol', T0 + 5, { expiresAt: T0 + 100 })
        expect(await deliveries.due('bob', T0 + 100, 10)).toEqual([expect.objectContaining({ id: long.id })])
        const expired = await deliveries.expire(T0 + 100)
        expect(expired.map((delivery) => delivery.id).sort()).toEqual([short.id, inflight.id].sort())
        expect(await deliveries.expire(T0 + 100)).toEqual([])
        expect(await deliveries.queued('bob')).toBe(1)
        await deliveries.releaseAll()
        expect((await deliveries.due('bob', T0 + 100, 10)).map((delivery) => delivery.id)).toEqual([long.id])
        expect(await deliveries.counts()).toMatchObject({ deadLetters: 1 })
      })
    })

    describe('dead-letter queue', () => {
      it('lists dead letters newest first, filtered, across pages exactly once', async () => {
        await deliveries.subscribeDurable('bob', 'orders', T0)
        const [published] = await history.publish([publication('orders', 1)])
        const channelDelivery = published?.deliveries[0]
        if (channelDelivery === undefined) throw new Error('no durable delivery')
        await deliveries.fail('bob', channelDelivery.id, { dead: 'rejected' }, 'nack', T0 + 50)
        const expected: string[] = [channelDelivery.id]
        for (let index = 0; index < 12; index += 1) {
          // Pairs share a deadAt so the id breaks ties across page boundaries.
          const delivery = await deadLetter(
            index % 3 === 0 ? 'carol' : 'bob',
            T0 + 100 + Math.floor(index / 2),
          )
          expected.push(delivery.id)
        }
        for (const limit of [1, 2, 5, 13, 50]) {
          const all = await listAll({ limit })
          expect(all.map((letter) => letter.id).sort()).toEqual([...expected].sort())
          for (let index = 1; index < all.length; index += 1) {
            const newer = all[index - 1] as DeadLetter
            const older = all[index] as DeadLetter
            expect(Date.parse(newer.deadAt)).toBeGreaterThanOrEqual(Date.parse(older.deadAt))
          }
        }
        const firstPage = await deliveries.listDeadLetters({ limit: 50 })
        expect(firstPage.nextCursor).toBeNull()
        expect(firstPage.deadLetters.at(-1)).toMatchObject({
          id: channelDelivery.id,
          kind: 'channel',
          channel: 'orders',
          reason: 'rejected',
        })
        expect((await listAll({ limit: 2, recipient: 'carol' })).map((letter) => letter.recipient)).toEqual([
          'carol',
          'carol',
          'carol',
          'carol',
        ])
        expect(await listAll({ limit: 3, channel: 'orders' })).toHaveLength(1)
        expect(await listAll({ limit: 3, kind: 'channel' })).toHaveLength(1)
        expect(await listAll({ limit: 3, kind: 'direct', recipient: 'bob' })).toHaveLength(8)
        expect(await listAll({ limit: 3, recipient: 'nobody' })).toEqual([])
      })

      it('refuses a malformed cursor with InvalidCursorError', async () => {
        await deadLetter('bob', T0 + 1)
        const base64url = (value: string) => Buffer.from(value, 'utf8').toString('base64url')
        for (const cursor of [
          'x!',
          base64url('[1]'),
          base64url('["a","b"]'),
          base64url('nope'),
          'a'.repeat(500),
        ]) {
          await expect(deliveries.listDeadLetters({ limit: 10, cursor }), cursor).rejects.toBeInstanceOf(
            InvalidCursorError,
          )
        }
      })

      it('requeues a dead letter as pending with failures 0 and the same id', async () => {
        const dead = await deadLetter('bob', T0 + 10)
        const requeued = await deliveries.requeue(dead.id, T0 + 20, T0 + 2 * HOUR)
        expect(requeued).toMatchObject({
          id: dead.id,
          state: 'pending',
          failures: 0,
          attempts: 1,
          nextAttemptAt: T0 + 20,
          expiresAt: T0 + 2 * HOUR,
        })
        expect(await deliveries.getDeadLetter(dead.id)).toBeUndefined()
        expect((await deliveries.due('bob', T0 + 20, 10)).map((delivery) => delivery.id)).toEqual([dead.id])
        expect(await deliveries.requeue(dead.id, T0 + 20, T0 + HOUR)).toBeUndefined()
        expect(await deliveries.requeue('unknown', T0 + 20, T0 + HOUR)).toBeUndefined()
        expect(await deliveries.counts()).toMatchObject({ pending: 1, deadLetters: 0 })
      })

      it('purges by id and by filter', async () => {
        const first = await deadLetter('bob', T0 + 1)
        await deadLetter('bob', T0 + 2)
        await deadLetter('carol', T0 + 3)
        await deadLetter('carol', T0 + 4)
        const live = await sendOne('carol')
        expect(await deliveries.purgeDeadLetters({ id: first.id })).toBe(1)
        expect(await deliveries.purgeDeadLetters({ id: first.id })).toBe(0)
        expect(await deliveries.purgeDeadLetters({ id: live.id })).toBe(0)
        expect(await deliveries.purgeDeadLetters({ recipient: 'carol' })).toBe(2)
        expect(await deliveries.counts()).toMatchObject({ deadLetters: 1, pending: 1 })
        expect(await deliveries.purgeDeadLetters({})).toBe(1)
        expect(await deliveries.queued('carol')).toBe(1)
      })
    })

    it('counts pending, in-flight, dead letters and durable subscriptions', async () => {
      expect(await deliveries.counts()).toEqual({
        pending: 0,
        inflight: 0,
        deadLetters: 0,
        durableSubscriptions: 0,
      })
      await deliveries.subscribeDurable('alice', 'a', T0)
      await deliveries.subscribeDurable('alice', 'b', T0)
      await deliveries.subscribeDurable('bob', 'a', T0)
      const sent = await sendOne('bob')
      await sendOne('bob')
      await history.publish([publication('a', 1)])
      await deliveries.markSent([sent.id], T0 + 1)
      await deadLetter('carol', T0 + 2)
      expect(await deliveries.counts()).toEqual({
        pending: 3,
        inflight: 1,
        deadLetters: 1,
        durableSubscriptions: 3,
      })
    })
  })
  describeOperatorViews(label, setup)
}
