import { PublishResult, SendResult, SubscribeResult } from '@parley/protocol'
import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '@parley/stores/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { mergeConfigInputs } from '../src/env.js'
import { deliveryStats } from './support/delivery-helpers.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const redisUrl = testRedisUrl()

// These tests need a Redis server: they run when REDIS_URL is set (as in CI, which requires it) and are
// skipped otherwise, as the Postgres server targets need DATABASE_URL.
const NAME = 'redis delivery backend across gateway restarts'
describe.skipIf(redisUrl === undefined)(
  redisUrl === undefined ? `${NAME} (skipped: needs REDIS_URL, a Redis server)` : NAME,
  () => {
    let prefix: string
    const gateways: TestGateway[] = []
    const clients: TestClient[] = []

    /** A gateway on this test's Redis prefix: a restart, or another node, when one ran before. */
    async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
      const gateway = await startTestGateway(
        mergeConfigInputs({ delivery: { storeBackend: 'redis' }, redis: { url: redisUrl, prefix } }, config),
      )
      gateways.push(gateway)
      return gateway
    }
    async function connect(gateway: TestGateway, clientId: string): Promise<TestClient> {
      const client = await TestClient.connect(gateway.started.wsUrl, { clientId })
      clients.push(client)
      return client
    }
    async function publish(client: TestClient, channel: string, data: unknown): Promise<PublishResult> {
      return PublishResult.parse(await client.ok({ type: 'publish', channel, data }))
    }

    beforeEach(() => {
      prefix = testRedisPrefix()
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      for (const gateway of gateways.splice(0)) await gateway.dispose()
      await deleteRedisKeys(redisUrl as string, prefix)
    })

    it('recovers a subscription with since after a gateway restart on the same Redis prefix', async () => {
      const before = await start()
      const publisher = await connect(before, 'restart-publisher')
      const seen = await publish(publisher, 'c.restart', 'one')
      await publish(publisher, 'c.restart', 'two')
      await publish(publisher, 'c.restart', 'three')
      await before.gateway.stop()

      const after = await start()
      const subscriber = await connect(after, 'restart-subscriber')
      const result = SubscribeResult.parse(
        await subscriber.ok({
          type: 'subscribe',
          channel: 'c.restart',
          since: { offset: seen.offset ?? 0, epoch: seen.epoch ?? '' },
        }),
      )
      expect(result).toMatchObject({ recovered: true, replayed: 2, offset: 3, epoch: seen.epoch })
      await subscriber.waitUntil(() => subscriber.framesOf('channel_message').length === 2)
      expect(subscriber.framesOf('channel_message').map((frame) => [frame.offset, frame.data])).toEqual([
        [2, 'two'],
        [3, 'three'],
      ])
      const next = await publish(await connect(after, 'restart-publisher-2'), 'c.restart', 'four')
      expect(next).toMatchObject({ offset: 4, epoch: seen.epoch })
    })

    it('delivers and settles after a restart what was sent or published durably before it', async () => {
      const before = await start()
      const worker = await connect(before, 'restart-worker')
      await worker.ok({ type: 'subscribe', channel: 'jobs', durable: true })
      worker.close()
      await worker.waitClosed()
      const sender = await connect(before, 'restart-sender')
      const published = await publish(sender, 'jobs', { job: 1 })
      const offline = SendResult.parse(await sender.ok({ type: 'send', to: 'restart-worker', data: 'hi' }))
      // One more, received but not acknowledged when the gateway stops: it comes again after the restart.
      const online = await connect(before, 'restart-online')
      const unacked = SendResult.parse(
        await sender.ok({ type: 'send', to: 'restart-online', data: 'ack me' }),
      )
      expect(await online.next('direct_message')).toMatchObject({
        deliveryId: unacked.deliveryId,
        attempt: 1,
      })
      await before.gateway.stop()

      const after = await start()
      const back = await connect(after, 'restart-worker')
      await back.waitUntil(
        () => back.framesOf('channel_message').length === 1 && back.framesOf('direct_message').length === 1,
      )
      const [job] = back.framesOf('channel_message')
      const [direct] = back.framesOf('direct_message')
      expect(job).toMatchObject({ channel: 'jobs', data: { job: 1 }, offset: published.offset, attempt: 1 })
      expect(direct).toMatchObject({ id: offline.id, deliveryId: offline.deliveryId, data: 'hi' })
      expect(await back.ok({ type: 'ack', deliveryIds: [job?.deliveryId, direct?.deliveryId] })).toEqual({
        settled: 2,
      })

      const onlineAgain = await connect(after, 'restart-online')
      const again = await onlineAgain.waitFor(
        (frame): frame is FrameOf<'direct_message'> =>
          frame.type === 'direct_message' && frame.deliveryId === unacked.deliveryId,
      )
      expect(again.attempt).toBe(2)
      expect(await onlineAgain.ok({ type: 'ack', deliveryIds: [unacked.deliveryId] })).toEqual({
        settled: 1,
      })
      expect(await deliveryStats(after)).toMatchObject({
        backend: 'redis',
        pending: 0,
        inflight: 0,
        durableSubscriptions: 1,
      })
    })

    it('lets two gateway nodes on one prefix share offsets, recovery and deliveries', async () => {
      const nodeA = await start()
      const nodeB = await start()
      const onA = await connect(nodeA, 'node-a-publisher')
      const onB = await connect(nodeB, 'node-b-publisher')
      const first = await publish(onA, 'c.shared', 'from a')
      const second = await publish(onB, 'c.shared', 'from b')
      expect([first.offset, second.offset]).toEqual([1, 2])
      expect(second.epoch).toBe(first.epoch)
      const reader = await connect(nodeB, 'node-b-reader')
      expect(
        await reader.ok({
          type: 'subscribe',
          channel: 'c.shared',
          since: { offset: 0, epoch: first.epoch },
        }),
      ).toMatchObject({ recovered: true, replayed: 2 })
      // A direct message sent on node A waits in Redis for its recipient, who connects to node B.
      const sent = SendResult.parse(await onA.ok({ type: 'send', to: 'node-b-recipient', data: 'across' }))
      const recipient = await connect(nodeB, 'node-b-recipient')
      expect(await recipient.next('direct_message')).toMatchObject({
        deliveryId: sent.deliveryId,
        data: 'across',
      })
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 1 })
    })
  },
)
