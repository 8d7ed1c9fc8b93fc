import { ChannelList } from '@parley/protocol'
import { createMemoryDeliveryBackend, type DeliveryBackend, type ReadSinceResult } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { admin } from './support/delivery-helpers.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

function memoryBackend(): DeliveryBackend {
  return createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
}

/** A backend whose `readSince` waits until the test opens the gate, so a recovery stays in progress. */
function gatedBackend() {
  const inner = memoryBackend()
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  let reading: () => void = () => {}
  const readStarted = new Promise<void>((resolve) => {
    reading = resolve
  })
  const backend: DeliveryBackend = {
    ...inner,
    history: {
      ...inner.history,
      readSince: async (channel, since, now): Promise<ReadSinceResult> => {
        reading()
        await gate
        return inner.history.readSince(channel, since, now)
      },
    },
  }
  return { backend, readStarted, open: () => open() }
}

describe('delivery failure handling', () => {
  let server: TestGateway | undefined
  const clients: TestClient[] = []
  async function connect(clientId?: string): Promise<TestClient> {
    const client = await TestClient.connect(
      server?.started.wsUrl ?? '',
      clientId === undefined ? {} : { clientId },
    )
    clients.push(client)
    return client
  }
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
    server = undefined
  })

  it('settles nothing for acks and nacks of unknown ids, and the connection stays usable', async () => {
    server = await startTestGateway()
    const client = await connect('unknown-acker')
    expect(await client.ok({ type: 'ack', deliveryIds: ['dlv_nope', 'dlv_never'] })).toEqual({ settled: 0 })
    expect(await client.ok({ type: 'nack', deliveryId: 'dlv_nope', delayMs: 5 })).toEqual({ settled: 0 })
    // Without an id there is no answer; the next request is answered normally.
    client.send({ type: 'ack', deliveryIds: ['dlv_silent'] })
    expect(await client.ok({ type: 'publish', channel: 'still.fine', data: 1 })).toMatchObject({ offset: 1 })
    expect(client.framesOf('error')).toEqual([])
  })

  it("settles nothing when a client acks another client's delivery", async () => {
    server = await startTestGateway()
    const sender = await connect('thief-sender')
    const owner = await connect('thief-owner')
    const thief = await connect('thief')
    const sent = await sender.ok({ type: 'send', to: 'thief-owner', data: 'mine' })
    await owner.next('direct_message')
    expect(await thief.ok({ type: 'ack', deliveryIds: [String(sent.deliveryId)] })).toEqual({ settled: 0 })
    expect(await owner.ok({ type: 'ack', deliveryIds: [String(sent.deliveryId)] })).toEqual({ settled: 1 })
  })

  it('answers invalid_frame for a send to an invalid client id or a malformed ack', async () => {
    server = await startTestGateway()
    const client = await connect('bad-input')
    for (const frame of [
      { type: 'send', to: 'not a "client"', data: 1 },
      { type: 'send', to: '', data: 1 },
      { type: 'ack', deliveryIds: [] },
      { type: 'nack', deliveryId: 'dlv_x', delayMs: -1 },
    ]) {
      expect(await client.request(frame), JSON.stringify(frame)).toMatchObject({
        type: 'error',
        code: 'invalid_frame',
        retryable: false,
      })
    }
    expect(await client.ok({ type: 'send', to: 'valid-id', data: 1 })).toMatchObject({ to: 'valid-id' })
  })

  it('answers unavailable when the store rejects a publish or a send, and keeps the connection usable', async () => {
    const inner = memoryBackend()
    const failing: DeliveryBackend = {
      ...inner,
      history: {
        ...inner.history,
        publish: async (inputs) => {
          if (inputs.some((input) => input.channel === 'broken')) throw new Error('disk on fire')
          return inner.history.publish(inputs)
        },
      },
      deliveries: {
        ...inner.deliveries,
        send: async () => {
          throw new Error('connection reset')
        },
      },
    }
    server = await startTestGateway({}, { deliveryBackend: failing })
    const client = await connect('store-victim')
    for (const frame of [
      { type: 'publish', channel: 'broken', data: 1 },
      { type: 'send', to: 'anyone', data: 1 },
    ]) {
      expect(await client.request(frame)).toMatchObject({
        type: 'error',
        code: 'unavailable',
        retryable: true,
      })
    }
    expect(await client.ok({ type: 'publish', channel: 'fine', data: 2 })).toMatchObject({ offset: 1 })
  })

  it('sends a retry that came due while the store was slow to say when the next one is due', async () => {
    const inner = memoryBackend()
    let slowNextDueAt = false
    const slow: DeliveryBackend = {
      ...inner,
      deliveries: {
        ...inner.deliveries,
        nextDueAt: async (recipient) => {
          const next = await inner.deliveries.nextDueAt(recipient)
          if (slowNextDueAt) await new Promise((resolve) => setTimeout(resolve, 150))
          return next
        },
      },
    }
    server = await startTestGateway(
      { delivery: { retryDelay: 0.05, ackTimeout: 30 } },
      // The expiry sweep also wakes recipients: keep it out of the way.
      { deliveryBackend: slow, deliveryTimers: { expirySweepMs: 60_000 } },
    )
    const sender = await connect('slow-sender')
    const recipient = await connect('slow-recipient')
    const sent = await sender.ok({ type: 'send', to: 'slow-recipient', data: 'retry me' })
    const deliveryId = String(sent.deliveryId)
    await recipient.waitFor((frame) => frame.type === 'direct_message' && frame.attempt === 1)
    // From now on, the answer comes after the retry (due in 50 ms) is due already.
    slowNextDueAt = true
    await recipient.ok({ type: 'nack', deliveryId })
    const retry = await recipient.waitFor(
      (frame) => frame.type === 'direct_message' && frame.attempt === 2,
      3_000,
    )
    expect(retry).toMatchObject({ deliveryId, data: 'retry me' })
  })

  it('answers a subscribe still recovering when its channel is unsubscribed, and leaves no subscription', async () => {
    const gated = gatedBackend()
    server = await startTestGateway({}, { deliveryBackend: gated.backend })
    const publisher = await connect('gated-publisher')
    const published = await publisher.ok({ type: 'publish', channel: 'gated', data: 'before' })
    const subscriber = await connect('gated-subscriber')
    const subscribeId = subscriber.newId()
    subscriber.send({
      type: 'subscribe',
      id: subscribeId,
      channel: 'gated',
      since: { offset: 0, epoch: published.epoch },
    })
    await gated.readStarted
    // Published while the recovery is in progress: buffered for it.
    await publisher.ok({ type: 'publish', channel: 'gated', data: 'during' })
    const unsubscribed = await subscriber.request({ type: 'unsubscribe', channel: 'gated' })
    expect(unsubscribed).toMatchObject({ type: 'reply', result: { channel: 'gated' } })
    const subscribeAnswer = subscriber.frames.find(
      (frame) => (frame.type === 'error' || frame.type === 'reply') && frame.id === subscribeId,
    )
    expect(subscribeAnswer).toMatchObject({ type: 'error', code: 'conflict' })
    expect(subscriber.frames.indexOf(subscribeAnswer as never)).toBeLessThan(
      subscriber.frames.indexOf(unsubscribed),
    )
    gated.open()

    await subscriber.subscribe('probe')
    expect(await publisher.ok({ type: 'publish', channel: 'gated', data: 'after' })).toMatchObject({
      delivered: 0,
    })
    await publisher.ok({ type: 'publish', channel: 'probe', data: 'probe' })
    await subscriber.waitFor((frame) => frame.type === 'channel_message' && frame.channel === 'probe')
    expect(subscriber.framesOf('channel_message').filter((frame) => frame.channel === 'gated')).toEqual([])
    const { channels } = ChannelList.parse((await admin(server, '/api/admin/channels')).body)
    expect(channels.find((channel) => channel.name === 'gated')?.subscribers).toBe(0)
  })

  it('drops a recovery whose connection closes before it completes', async () => {
    const gated = gatedBackend()
    server = await startTestGateway({}, { deliveryBackend: gated.backend })
    const publisher = await connect('closing-publisher')
    const published = await publisher.ok({ type: 'publish', channel: 'closing', data: 'before' })
    const subscriber = await connect('closing-subscriber')
    subscriber.send({
      type: 'subscribe',
      id: 's1',
      channel: 'closing',
      since: { offset: 0, epoch: published.epoch },
    })
    await gated.readStarted
    subscriber.close()
    await subscriber.waitClosed()
    gated.open()
    expect(await publisher.ok({ type: 'publish', channel: 'closing', data: 'after' })).toMatchObject({
      delivered: 0,
    })
    const { channels } = ChannelList.parse((await admin(server, '/api/admin/channels')).body)
    expect(channels.find((channel) => channel.name === 'closing')?.subscribers).toBe(0)
  })
})
