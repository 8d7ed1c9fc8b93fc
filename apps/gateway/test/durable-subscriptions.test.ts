import { PublishResult, SubscribeResult, WelcomeFrame } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { mergeConfigInputs } from '../src/env.js'
import { deliveryStats } from './support/delivery-helpers.js'
import { type DeliveryTarget, deliveryTargets, type PreparedTarget } from './support/delivery-targets.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

for (const target of deliveryTargets()) {
  describeDurable(target)
}

function describeDurable(target: DeliveryTarget): void {
  describe(`durable subscriptions (${target.label})`, () => {
    let prepared: PreparedTarget
    let server: TestGateway | undefined
    const clients: TestClient[] = []

    async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
      server = await startTestGateway(mergeConfigInputs(prepared.config, config))
      return server
    }
    async function connect(clientId?: string): Promise<TestClient> {
      const client = await TestClient.connect(
        server?.started.wsUrl ?? '',
        clientId === undefined ? {} : { clientId },
      )
      clients.push(client)
      return client
    }
    async function publish(client: TestClient, channel: string, data: unknown) {
      return PublishResult.parse(await client.ok({ type: 'publish', channel, data }))
    }

    beforeEach(async () => {
      prepared = await target.prepare()
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      await server?.dispose()
      server = undefined
      await prepared.dispose()
    })

    it('delivers what was published while a durable subscriber was away when it reconnects', async () => {
      await start()
      const publisher = await connect('durable-publisher')
      const first = await connect('durable-worker')
      const subscribed = SubscribeResult.parse(
        await first.ok({ type: 'subscribe', channel: 'jobs', durable: true }),
      )
      expect(subscribed).toMatchObject({ channel: 'jobs', durable: true, offset: 0 })

      const one = await publish(publisher, 'jobs', 'one')
      expect(one.delivered).toBe(0)
      const delivered = await first.next('channel_message')
      expect(delivered).toMatchObject({
        channel: 'jobs',
        data: 'one',
        id: one.id,
        source: 'durable-publisher',
        offset: one.offset,
        epoch: one.epoch,
        attempt: 1,
        deliveryId: expect.any(String),
      })
      await first.ok({ type: 'ack', deliveryIds: [delivered.deliveryId] })
      first.close()
      await first.waitClosed()

      await publish(publisher, 'jobs', 'two')
      await publish(publisher, 'jobs', 'three')
      const second = await connect('durable-worker')
      await second.waitUntil(() => second.framesOf('channel_message').length === 2)
      const missed = second.framesOf('channel_message')
      expect(missed.map((frame) => [frame.data, frame.offset, frame.attempt])).toEqual([
        ['two', 2, 1],
        ['three', 3, 1],
      ])
      await second.ok({ type: 'ack', deliveryIds: missed.map((frame) => frame.deliveryId) })
      const stats = await deliveryStats(server as TestGateway)
      expect(stats).toMatchObject({ pending: 0, inflight: 0, durableSubscriptions: 1 })
      expect(stats.counters).toMatchObject({ enqueued: 3, acked: 3 })
    })

    it('hands each publication to a durable subscriber once, as a delivery, not also live', async () => {
      await start()
      const worker = await connect('durable-once')
      await worker.subscribe('once')
      await worker.ok({ type: 'subscribe', channel: 'once', durable: true })
      // Re-subscribing durably is idempotent.
      await worker.ok({ type: 'subscribe', channel: 'once', durable: true })
      await publish(worker, 'once', 'x')
      const message = await worker.next('channel_message')
      expect(message.deliveryId).toBeDefined()
      await worker.ok({ type: 'ack', deliveryIds: [message.deliveryId] })
      await publish(worker, 'once', 'y')
      await worker.waitUntil(() => worker.framesOf('channel_message').length === 2)
      expect(
        worker.framesOf('channel_message').map((frame) => [frame.data, frame.deliveryId !== undefined]),
      ).toEqual([
        ['x', true],
        ['y', true],
      ])
      expect((await deliveryStats(server as TestGateway)).durableSubscriptions).toBe(1)
    })

    it('refuses a durable subscription without a client id chosen in hello with bad_request', async () => {
      await start()
      const anonymous = await connect()
      const answer = await anonymous.request({ type: 'subscribe', channel: 'jobs', durable: true })
      expect(answer).toMatchObject({ type: 'error', code: 'bad_request', retryable: false })
      // Still usable.
      expect(await anonymous.ok({ type: 'subscribe', channel: 'jobs' })).toMatchObject({ channel: 'jobs' })
    })

    it('ends a durable subscription on unsubscribe, even from a later connection', async () => {
      await start()
      const publisher = await connect('unsub-publisher')
      const first = await connect('unsub-worker')
      await first.ok({ type: 'subscribe', channel: 'ending', durable: true })
      first.close()
      await first.waitClosed()
      const second = await connect('unsub-worker')
      expect(await second.ok({ type: 'unsubscribe', channel: 'ending' })).toEqual({ channel: 'ending' })
      await publish(publisher, 'ending', 'nobody')
      const stats = await deliveryStats(server as TestGateway)
      expect(stats).toMatchObject({ durableSubscriptions: 0, pending: 0 })
      expect(stats.counters.enqueued).toBe(0)
    })

    if (target.backend === 'memory') {
      it('with delivery disabled: send and durable answer unavailable, history still works', async () => {
        const running = await start({ delivery: { enabled: false } })
        const client = await TestClient.open(running.started.wsUrl)
        clients.push(client)
        const welcome = WelcomeFrame.parse(await client.hello({ clientId: 'no-delivery' }))
        expect(welcome.features).toEqual(expect.arrayContaining(['history', 'recovery']))
        expect(welcome.features).not.toContain('durable')
        for (const frame of [
          { type: 'send', to: 'someone', data: 1 },
          { type: 'subscribe', channel: 'jobs', durable: true },
        ]) {
          expect(await client.request(frame)).toMatchObject({
            type: 'error',
            code: 'unavailable',
            message: 'delivery guarantees are disabled',
          })
        }
        const published = await publish(client, 'still-history', 'kept')
        const recovering = await connect()
        expect(
          await recovering.ok({
            type: 'subscribe',
            channel: 'still-history',
            since: { offset: 0, epoch: published.epoch },
          }),
        ).toMatchObject({ recovered: true, replayed: 1 })
      })

      it('announces history, recovery, durable, direct and acks in welcome', async () => {
        const running = await start()
        const client = await TestClient.open(running.started.wsUrl)
        clients.push(client)
        const welcome = WelcomeFrame.parse(await client.hello())
        expect(welcome.features).toEqual(
          expect.arrayContaining(['channels', 'history', 'recovery', 'durable', 'direct', 'acks']),
        )
      })
    }
  })
}
