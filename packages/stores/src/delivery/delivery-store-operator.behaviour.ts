import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type DeliveryBackendFixture, directMessage, HOUR, T0 } from './delivery-backend.fixture.js'
import type { DeliveryStore } from './types.js'

/**
 * What the operator's views read from every DeliveryStore: the list of durable subscriptions and the requeue
 * history of dead letters. Run by `describeDeliveryStoreBehaviour`, so each implementation's test file runs it.
 */
export function describeOperatorViews(label: string, setup: () => Promise<DeliveryBackendFixture>): void {
  describe(`DeliveryStore operator views: ${label}`, () => {
    let fixture: DeliveryBackendFixture
    let deliveries: DeliveryStore

    beforeEach(async () => {
      fixture = await setup()
      deliveries = (await fixture.createBackend()).deliveries
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    /** A direct message to `recipient`, sent once and refused for good at `deadAt`. */
    async function deadLetter(recipient: string, deadAt: number) {
      const [outcome] = await deliveries.send([directMessage(recipient)])
      if (outcome === undefined) throw new Error('send returned nothing')
      await deliveries.markSent([outcome.delivery.id], deadAt - 1)
      await deliveries.fail(recipient, outcome.delivery.id, { dead: 'max_retries' }, 'timeout', deadAt)
      return outcome.delivery
    }

    it('lists every durable subscription by channel then recipient, up to the limit', async () => {
      await deliveries.subscribeDurable('bob', 'orders', T0)
      await deliveries.subscribeDurable('alice', 'orders', T0)
      await deliveries.subscribeDurable('alice', 'news', T0)
      await deliveries.subscribeDurable('alice', 'news', T0)
      expect(await deliveries.listDurableSubscriptions(10)).toEqual([
        { recipient: 'alice', channel: 'news' },
        { recipient: 'alice', channel: 'orders' },
        { recipient: 'bob', channel: 'orders' },
      ])
      expect(await deliveries.listDurableSubscriptions(2)).toHaveLength(2)
      await deliveries.unsubscribeDurable('alice', 'orders')
      expect(await deliveries.listDurableSubscriptions(10)).toEqual([
        { recipient: 'alice', channel: 'news' },
        { recipient: 'bob', channel: 'orders' },
      ])
    })

    it('keeps the requeue history of a dead letter: how often, when last, and the attempts of this life', async () => {
      const dead = await deadLetter('bob', T0 + 10)
      expect(await deliveries.getDeadLetter(dead.id)).toMatchObject({
        attempts: 1,
        requeues: 0,
        requeuedAt: null,
        attemptsThisLife: 1,
      })
      for (const [round, at] of [
        [1, T0 + 100],
        [2, T0 + 200],
      ] as const) {
        await deliveries.requeue(dead.id, at, T0 + HOUR)
        // Two attempts in this life, then it dies again.
        await deliveries.markSent([dead.id], at + 1)
        await deliveries.release([dead.id])
        await deliveries.markSent([dead.id], at + 2)
        await deliveries.fail('bob', dead.id, { dead: 'max_retries' }, 'timeout', at + 3)
        const again = await deliveries.getDeadLetter(dead.id)
        expect(again).toMatchObject({
          attempts: 1 + 2 * round,
          requeues: round,
          requeuedAt: new Date(at).toISOString(),
          attemptsThisLife: 2,
        })
        const [listed] = (await deliveries.listDeadLetters({ recipient: 'bob', limit: 10 })).deadLetters
        expect(listed).toEqual(again)
      }
    })
  })
}
