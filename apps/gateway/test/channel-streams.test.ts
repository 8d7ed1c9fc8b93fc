import { PublishResult, SubscribeResult } from '@parley/protocol'
import { createMemoryDeliveryBackend, type DeliveryBackend } from '@parley/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type GatewayConfigInput, parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { mergeConfigInputs } from '../src/env.js'
import { type DeliveryTarget, deliveryTargets, type PreparedTarget } from './support/delivery-targets.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

type ChannelMessage = FrameOf<'channel_message'>

function offsetsOf(client: TestClient, channel: string): number[] {
  return client
    .framesOf('channel_message')
    .filter((frame) => frame.channel === channel)
    .map((frame) => frame.offset ?? -1)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index)
}

for (const target of deliveryTargets()) {
  describeStreams(target)
}

function describeStreams(target: DeliveryTarget): void {
  describe(`channel streams (${target.label})`, () => {
    let prepared: PreparedTarget
    const servers: TestGateway[] = []
    const clients: TestClient[] = []

    async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
      const server = await startTestGateway(mergeConfigInputs(prepared.config, config))
      servers.push(server)
      return server
    }
    async function connect(server: TestGateway, clientId?: string): Promise<TestClient> {
      const client = await TestClient.connect(
        server.started.wsUrl,
        clientId === undefined ? {} : { clientId },
      )
      clients.push(client)
      return client
    }
    async function publish(client: TestClient, channel: string, data: unknown, extra: object = {}) {
      return PublishResult.parse(await client.ok({ type: 'publish', channel, data, ...extra }))
    }

    beforeEach(async () => {
      prepared = await target.prepare()
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      for (const server of servers.splice(0)) await server.dispose()
      await prepared.dispose()
    })

    it('gives publications contiguous offsets in one epoch and fans them out in offset order', async () => {
      const server = await start()
      const publisher = await connect(server, 'offsets-publisher')
      const subscriber = await connect(server, 'offsets-subscriber')
      const subscribed = SubscribeResult.parse(
        await subscriber.ok({ type: 'subscribe', channel: 'c.offsets' }),
      )
      expect(subscribed).toMatchObject({ channel: 'c.offsets', offset: 0, epoch: expect.any(String) })

      const results = []
      for (let index = 0; index < 5; index += 1) results.push(await publish(publisher, 'c.offsets', index))
      expect(results.map((result) => result.offset)).toEqual([1, 2, 3, 4, 5])
      expect(new Set(results.map((result) => result.epoch))).toEqual(new Set([subscribed.epoch]))
      await subscriber.waitUntil(() => offsetsOf(subscriber, 'c.offsets').length === 5)
      expect(offsetsOf(subscriber, 'c.offsets')).toEqual([1, 2, 3, 4, 5])

      // A later subscriber continues from the current position.
      const late = await connect(server, 'offsets-late')
      expect(SubscribeResult.parse(await late.ok({ type: 'subscribe', channel: 'c.offsets' }))).toMatchObject(
        {
          offset: 5,
          epoch: subscribed.epoch,
        },
      )
      await publish(publisher, 'c.offsets', 'sixth')
      expect((await late.next('channel_message')).offset).toBe(6)
    })

    it('gives 32 concurrent publishers unique contiguous offsets, seen in the same order by two subscribers', async () => {
      const server = await start()
      const subscribers = [await connect(server, 'order-a'), await connect(server, 'order-b')]
      for (const subscriber of subscribers) await subscriber.subscribe('c.concurrent')
      const publishers = await Promise.all(range(1, 32).map((index) => connect(server, `order-pub-${index}`)))
      const perPublisher = 10
      const results = await Promise.all(
        publishers.flatMap((publisher, index) =>
          range(1, perPublisher).map((n) => publish(publisher, 'c.concurrent', { publisher: index, n })),
        ),
      )
      const total = publishers.length * perPublisher
      expect(results.map((result) => result.offset).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
        range(1, total),
      )

      for (const subscriber of subscribers) {
        await subscriber.waitUntil(() => offsetsOf(subscriber, 'c.concurrent').length === total, 10_000)
        expect(offsetsOf(subscriber, 'c.concurrent')).toEqual(range(1, total))
      }
      const ids = subscribers.map((subscriber) =>
        subscriber.framesOf('channel_message').map((frame: ChannelMessage) => frame.id),
      )
      expect(ids[0]).toEqual(ids[1])
      // Each publisher's own messages keep their order in the stream.
      const messages = subscribers[0]?.framesOf('channel_message') ?? []
      for (let index = 0; index < publishers.length; index += 1) {
        const own = messages
          .map((frame) => frame.data as { publisher: number; n: number })
          .filter((data) => data.publisher === index)
        expect(own.map((data) => data.n)).toEqual(range(1, perPublisher))
      }
    })

    it('replays exactly the missed publications before the subscribe reply, then delivers live', async () => {
      const server = await start()
      const publisher = await connect(server, 'recover-publisher')
      const first = await publish(publisher, 'c.recover', 'one')
      for (const text of ['two', 'three', 'four', 'five']) await publish(publisher, 'c.recover', text)

      const subscriber = await connect(server, 'recover-subscriber')
      const id = subscriber.newId()
      subscriber.send({
        type: 'subscribe',
        id,
        channel: 'c.recover',
        since: { offset: 2, epoch: first.epoch },
      })
      const reply = await subscriber.waitFor((frame) => frame.type === 'reply' && frame.id === id)
      const result = SubscribeResult.parse(reply.type === 'reply' ? reply.result : undefined)
      expect(result).toEqual({
        channel: 'c.recover',
        offset: 5,
        epoch: first.epoch,
        recovered: true,
        replayed: 3,
      })
      const beforeReply = subscriber.frames.slice(0, subscriber.frames.indexOf(reply))
      expect(
        beforeReply.filter((frame) => frame.type === 'channel_message').map((frame) => frame.data),
      ).toEqual(['three', 'four', 'five'])

      await publish(publisher, 'c.recover', 'six')
      await subscriber.waitUntil(() => offsetsOf(subscriber, 'c.recover').length === 4)
      expect(offsetsOf(subscriber, 'c.recover')).toEqual([3, 4, 5, 6])

      // Nothing missed: recovered with nothing to replay.
      const upToDate = await connect(server, 'recover-up-to-date')
      expect(
        await upToDate.ok({
          type: 'subscribe',
          channel: 'c.recover',
          since: { offset: 6, epoch: first.epoch },
        }),
      ).toMatchObject({ recovered: true, replayed: 0, offset: 6 })
    })

    it('recovers with no gap and no duplicate while publications race the replay', async () => {
      const server = await start()
      const publisher = await connect(server, 'race-publisher')
      const first = await publish(publisher, 'c.race', 0)
      const bursts = 30
      const burstSize = 10
      const recoverers: Promise<TestClient>[] = []
      for (let burst = 0; burst < bursts; burst += 1) {
        const answers = range(1, burstSize).map((n) => publish(publisher, 'c.race', burst * burstSize + n))
        if (burst % 6 === 2) {
          // Subscribes while this burst is being stored and fanned out.
          recoverers.push(
            connect(server).then(async (client) => {
              await client.ok({
                type: 'subscribe',
                channel: 'c.race',
                since: { offset: 1, epoch: first.epoch },
              })
              return client
            }),
          )
        }
        await Promise.all(answers)
      }
      const last = 1 + bursts * burstSize
      for (const recoverer of await Promise.all(recoverers)) {
        await recoverer.waitUntil(() => offsetsOf(recoverer, 'c.race').at(-1) === last, 10_000)
        expect(offsetsOf(recoverer, 'c.race')).toEqual(range(2, last))
      }
    })

    it('answers recovered:false without replaying for another epoch, an offset beyond retention or ahead', async () => {
      const server = await start({ history: { size: 5 } })
      const publisher = await connect(server, 'unrecoverable-publisher')
      let latest = await publish(publisher, 'c.lost', 1)
      for (let n = 2; n <= 12; n += 1) latest = await publish(publisher, 'c.lost', n)

      const epoch = latest.epoch ?? ''
      let position = latest.offset ?? 0
      const cases = [
        { offset: 3, epoch: 'ep_another_epoch' },
        { offset: 2, epoch },
        { offset: 99, epoch },
      ]
      for (const since of cases) {
        const subscriber = await connect(server)
        const result = SubscribeResult.parse(
          await subscriber.ok({ type: 'subscribe', channel: 'c.lost', since }),
        )
        expect(result, JSON.stringify(since)).toEqual({
          channel: 'c.lost',
          offset: position,
          epoch,
          recovered: false,
          replayed: 0,
        })
        expect(subscriber.framesOf('channel_message')).toEqual([])
        // It is live all the same.
        await publish(publisher, 'c.lost', 'next')
        position += 1
        expect(await subscriber.next('channel_message')).toMatchObject({ data: 'next', offset: position })
      }

      // Within retention: the last five are still there.
      const retained = await connect(server)
      expect(
        await retained.ok({ type: 'subscribe', channel: 'c.lost', since: { offset: position - 5, epoch } }),
      ).toMatchObject({ recovered: true, replayed: 5 })
    })

    it('stores a repeated idempotency key once: 1,000 keys published 5 times concurrently', async () => {
      const server = await start()
      const subscriber = await connect(server, 'dedupe-subscriber')
      await subscriber.subscribe('c.dedupe')
      const publishers = await Promise.all(range(1, 5).map((index) => connect(server, `dedupe-${index}`)))
      const keys = range(1, 1000).map((n) => `key-${n}`)
      publishers.forEach((publisher, index) => {
        // Each connection sends the keys in its own order.
        const order = index % 2 === 0 ? keys : [...keys].reverse()
        for (const key of order) {
          publisher.send({
            type: 'publish',
            id: key,
            channel: 'c.dedupe',
            data: { key },
            idempotencyKey: key,
          })
        }
      })
      for (const publisher of publishers) {
        await publisher.waitUntil(() => publisher.framesOf('reply').length === keys.length, 15_000)
        expect(publisher.framesOf('error')).toEqual([])
      }
      const byKey = new Map<string, PublishResult[]>()
      for (const publisher of publishers) {
        for (const reply of publisher.framesOf('reply')) {
          const list = byKey.get(reply.id) ?? []
          list.push(PublishResult.parse(reply.result))
          byKey.set(reply.id, list)
        }
      }
      const firstOffsets: number[] = []
      for (const key of keys) {
        const results = byKey.get(key) ?? []
        expect(results).toHaveLength(5)
        const originals = results.filter((result) => result.duplicate !== true)
        expect(originals, key).toHaveLength(1)
        const original = originals[0] as PublishResult
        for (const duplicate of results.filter((result) => result.duplicate === true)) {
          expect(duplicate).toMatchObject({ id: original.id, offset: original.offset, epoch: original.epoch })
        }
        firstOffsets.push(original.offset ?? -1)
      }
      expect(firstOffsets.sort((a, b) => a - b)).toEqual(range(1, 1000))

      await subscriber.waitUntil(() => offsetsOf(subscriber, 'c.dedupe').length === 1000, 15_000)
      expect(offsetsOf(subscriber, 'c.dedupe')).toEqual(range(1, 1000))
      const epoch = subscriber.framesOf('channel_message')[0]?.epoch ?? ''
      const history = await connect(server, 'dedupe-history')
      expect(
        await history.ok({ type: 'subscribe', channel: 'c.dedupe', since: { offset: 0, epoch } }),
      ).toMatchObject({ recovered: true, replayed: 1000, offset: 1000 })
      const replayedKeys = new Set(
        history.framesOf('channel_message').map((frame) => (frame.data as { key: string }).key),
      )
      expect(replayedKeys.size).toBe(1000)
    })

    if (target.backend === 'memory') {
      it('starts a new epoch after a restart of a memory backend, so recovery across it answers recovered:false', async () => {
        const before = await start()
        const publisher = await connect(before, 'restart-publisher')
        const published = await publish(publisher, 'c.restart', 'before')
        publisher.close()
        await before.gateway.stop()

        const after = await start()
        const subscriber = await connect(after, 'restart-subscriber')
        const result = SubscribeResult.parse(
          await subscriber.ok({
            type: 'subscribe',
            channel: 'c.restart',
            since: { offset: published.offset ?? 0, epoch: published.epoch ?? '' },
          }),
        )
        expect(result.recovered).toBe(false)
        expect(result.offset).toBe(0)
        expect(result.epoch).not.toBe(published.epoch)
      })
    }
  })
}

describe('channel streams on a slow store', () => {
  const clients: TestClient[] = []
  let server: TestGateway | undefined
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
  })

  it('recovers with no gap and no duplicate when publications land while the history is being read', async () => {
    const config = parseConfig({})
    const inner = createMemoryDeliveryBackend(deliveryBackendOptions(config))
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    // Like a database: reads take a while, and commits are acknowledged after a varying delay (offsets are
    // still assigned in call order), so fan-out lags the store and runs during the read.
    const slow: DeliveryBackend = {
      ...inner,
      history: {
        ...inner.history,
        publish: async (inputs) => {
          const stored = await inner.history.publish(inputs)
          await later(Math.random() * 8)
          return stored
        },
        readSince: async (channel, since, now) => {
          await later(15)
          return inner.history.readSince(channel, since, now)
        },
        position: async (channel) => {
          await later(10)
          return inner.history.position(channel)
        },
      },
    }
    server = await startTestGateway({}, { deliveryBackend: slow })
    const connect = async () => {
      const client = await TestClient.connect(server?.started.wsUrl ?? '')
      clients.push(client)
      return client
    }
    const publisher = await connect()
    const first = PublishResult.parse(await publisher.ok({ type: 'publish', channel: 'c.slow', data: 0 }))
    const recoverers: Promise<TestClient>[] = []
    const plain: Promise<{ client: TestClient; from: number }>[] = []
    for (let burst = 0; burst < 20; burst += 1) {
      const answers = range(1, 10).map((n) => publisher.ok({ type: 'publish', channel: 'c.slow', data: n }))
      if (burst % 4 === 1) {
        recoverers.push(
          connect().then(async (client) => {
            await client.ok({
              type: 'subscribe',
              channel: 'c.slow',
              since: { offset: 1, epoch: first.epoch },
            })
            return client
          }),
        )
        plain.push(
          connect().then(async (client) => {
            const result = SubscribeResult.parse(await client.ok({ type: 'subscribe', channel: 'c.slow' }))
            return { client, from: result.offset ?? -1 }
          }),
        )
      }
      await Promise.all(answers)
    }
    const last = 1 + 20 * 10
    for (const recoverer of await Promise.all(recoverers)) {
      await recoverer.waitUntil(() => offsetsOf(recoverer, 'c.slow').at(-1) === last, 10_000)
      expect(offsetsOf(recoverer, 'c.slow')).toEqual(range(2, last))
    }
    for (const { client, from } of await Promise.all(plain)) {
      await client.waitUntil(() => offsetsOf(client, 'c.slow').at(-1) === last, 10_000)
      // A plain subscriber gets every publication after the position its reply named.
      expect(offsetsOf(client, 'c.slow')).toEqual(range(from + 1, last))
    }
  })
})
