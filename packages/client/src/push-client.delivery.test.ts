import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import type { PushClient } from './push-client.js'
import type { DirectMessage } from './push-client-types.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'
import type { ScriptedConnection, ScriptedServer } from './test-support/scripted-server.js'

const fixtures = useFixtures()

function directFrame(id: string, attempt = 1, data: unknown = { n: id }): Record<string, unknown> {
  return { type: 'direct_message', id, deliveryId: `dlv-${id}`, attempt, from: 'planner', data, timestamp: 1 }
}

const isAck = (frame: ClientFrame): boolean => frame.type === 'ack'
const isNack = (frame: ClientFrame): boolean => frame.type === 'nack'

/** Every delivery id the connection acknowledged so far, in order. */
function ackedIds(connection: ScriptedConnection): string[] {
  return connection.frames.flatMap((frame) => (frame.type === 'ack' ? frame.deliveryIds : []))
}

/**
 * A request round trip. The client sends acks within a tick of deciding to; once a reply has come back, an
 * ack that was due would already have reached the server.
 */
async function roundTrip(client: PushClient): Promise<void> {
  await client.publish('sync', 0)
}

/** A connected client (with a stable id) and the server side of its connection. */
async function connected(
  server: ScriptedServer,
  options: Parameters<typeof fixtures.client>[1] = {},
): Promise<{ client: PushClient; connection: ScriptedConnection }> {
  const client = fixtures.client(server.url, { clientId: 'worker-1', ...options })
  const welcomed = server.nextWelcomed()
  await client.connect()
  return { client, connection: await welcomed }
}

function controlled(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((settle, fail) => {
    resolve = settle
    reject = fail
  })
  return { promise, resolve, reject }
}

describe('PushClient deliveries in auto ack mode', () => {
  it('acks a durable channel delivery only after the async handler resolved', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    await client.subscribe('jobs', { durable: true })
    const work = controlled()
    const started = nextEvent(client, 'channel_message')
    client.on('channel_message', () => work.promise)

    server.deliver('jobs', { job: 1 })
    const message = await started
    expect(message).toMatchObject({ channel: 'jobs', attempt: 1, deliveryId: expect.any(String) })
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])

    const ack = server.nextFrame(isAck)
    work.resolve()
    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: [message.deliveryId] })
  })

  it('nacks without delay, and reports an error, when a handler rejects', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    client.on('direct_message', async () => {
      throw new Error('database busy')
    })
    const nack = server.nextFrame(isNack)
    const error = nextEvent(client, 'error')

    connection.send(directFrame('m1'))

    const { frame } = await nack
    expect(frame).toMatchObject({ type: 'nack', deliveryId: 'dlv-m1' })
    expect(frame).not.toHaveProperty('delayMs')
    expect(await error).toMatchObject({ code: 'internal', message: expect.stringContaining('database busy') })
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])
  })

  it('nacks when one of several handlers throws synchronously, even if the others succeed', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    client.on('direct_message', () => undefined)
    client.on('direct_message', () => {
      throw new Error('bug')
    })
    const nack = server.nextFrame(isNack)
    connection.send(directFrame('m1'))
    expect((await nack).frame).toMatchObject({ deliveryId: 'dlv-m1' })
  })

  it('runs the handler again for the retry of a refused message', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    let calls = 0
    client.on('direct_message', () => {
      calls += 1
      if (calls === 1) throw new Error('first attempt fails')
    })
    const nack = server.nextFrame(isNack)
    connection.send(directFrame('m1', 1))
    await nack

    const ack = server.nextFrame(isAck)
    connection.send(directFrame('m1', 2))
    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1'] })
    expect(calls).toBe(2)
  })

  it('acks a redelivery of an already handled message without running the handler again', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    const handled = record(client, 'direct_message')
    const firstAck = server.nextFrame(isAck)
    connection.send(directFrame('m1', 1))
    await firstAck

    const secondAck = server.nextFrame(isAck)
    connection.send(directFrame('m1', 2))

    expect((await secondAck).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1'] })
    expect(handled.map((message) => [message.id, message.attempt])).toEqual([['m1', 1]])
  })

  it('folds a redelivery that arrives while the handler still runs into that run, acked when it ends', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    const work = controlled()
    let calls = 0
    const started = nextEvent(client, 'direct_message')
    client.on('direct_message', () => {
      calls += 1
      return work.promise
    })
    connection.send(directFrame('m1', 1))
    await started
    connection.send(directFrame('m1', 2))
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])

    const ack = server.nextFrame(isAck)
    work.resolve()
    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1'] })
    await roundTrip(client)
    expect(calls).toBe(1)
    expect(ackedIds(connection)).toEqual(['dlv-m1'])
  })

  it('sends the acks of one tick in one ack frame', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    client.on('direct_message', () => undefined)
    const ack = server.nextFrame(isAck)

    for (const id of ['m1', 'm2', 'm3']) connection.send(directFrame(id))

    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1', 'dlv-m2', 'dlv-m3'] })
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toHaveLength(1)
  })

  it('drops an ack due while disconnected, and acks the redelivery without running the handler again', async () => {
    const server = await fixtures.server()
    const { client } = await connected(server, { reconnect: { initialDelayMs: 20 } })
    const sender = fixtures.client(server.url, { clientId: 'planner' })
    await sender.connect()
    const work = controlled()
    const handled: DirectMessage[] = []
    const started = nextEvent(client, 'direct_message')
    client.on('direct_message', (message) => {
      handled.push(message)
      return work.promise
    })
    await sender.send('worker-1', { invoice: 7 })
    await started

    await server.stop()
    await nextEvent(client, 'reconnecting')
    work.resolve()
    // The scripted gateway hands unacknowledged direct messages over again on the next welcome.
    const welcomed = server.nextWelcomed()
    const ack = server.nextFrame(isAck)
    await server.restart()
    const connection = await welcomed

    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: [handled[0]?.deliveryId] })
    expect(connection.frames.filter(isAck)).toHaveLength(1)
    expect(handled).toHaveLength(1)
    expect(server.directs.size).toBe(0)
  })

  it('leaves a delivery unacknowledged when nobody listens for it', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    connection.send(directFrame('m1'))
    await roundTrip(client)
    expect(connection.frames.filter((frame) => isAck(frame) || isNack(frame))).toEqual([])
  })
})

describe('PushClient deliveries in manual ack mode', () => {
  it('sends nothing until the listener calls ack(); ack() then acks once', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server, { ackMode: 'manual' })
    const received = nextEvent(client, 'direct_message')
    connection.send(directFrame('m1'))
    const message = await received
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])

    const ack = server.nextFrame(isAck)
    expect(message.ack()).toBe(true)
    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1'] })
    expect(message.ack()).toBe(false)
    expect(message.nack()).toBe(false)
  })

  it('nack({ delayMs, reason }) puts both on the wire', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server, { ackMode: 'manual' })
    await client.subscribe('jobs', { durable: true })
    const received = nextEvent(client, 'channel_message')
    server.deliver('jobs', { job: 1 })
    const message = await received

    const nack = server.nextFrame(isNack)
    message.nack({ delayMs: 5_000, reason: 'database busy' })

    expect((await nack).frame).toEqual({
      type: 'nack',
      deliveryId: message.deliveryId,
      delayMs: 5_000,
      reason: 'database busy',
    })
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])
  })

  it('keeps the message to the listener: a redelivery before it settles is not handed over again', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server, { ackMode: 'manual' })
    const handled = record(client, 'direct_message')
    const received = nextEvent(client, 'direct_message')
    connection.send(directFrame('m1', 1))
    const message = await received
    connection.send(directFrame('m1', 2))
    await roundTrip(client)
    expect(handled).toHaveLength(1)

    const ack = server.nextFrame(isAck)
    message.ack()
    expect((await ack).frame).toEqual({ type: 'ack', deliveryIds: ['dlv-m1'] })
  })

  it('an early nack() in auto mode wins over the automatic ack', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server)
    client.on('direct_message', (message) => {
      message.nack({ delayMs: 100 })
    })
    const nack = server.nextFrame(isNack)
    connection.send(directFrame('m1'))
    expect((await nack).frame).toMatchObject({ deliveryId: 'dlv-m1', delayMs: 100 })
    await roundTrip(client)
    expect(connection.frames.filter(isAck)).toEqual([])
  })

  it('gives plain channel messages ack() and nack() that do nothing', async () => {
    const server = await fixtures.server()
    const { client, connection } = await connected(server, { ackMode: 'manual' })
    await client.subscribe('a')
    const received = nextEvent(client, 'channel_message')
    server.deliver('a', 1)
    const message = await received
    expect(message.ack()).toBe(false)
    expect(message.nack()).toBe(false)
    expect(Object.keys(message)).not.toContain('ack')
    await roundTrip(client)
    expect(connection.frames.filter((frame) => isAck(frame) || isNack(frame))).toEqual([])
  })
})

describe('PushClient send and publish', () => {
  it('send puts to, data, idempotencyKey and receipt on the wire and resolves with the stored message', async () => {
    const server = await fixtures.server()
    const { client: recipient } = await connected(server)
    const sender = fixtures.client(server.url, { clientId: 'planner' })
    await sender.connect()
    const sent = server.nextFrame((frame) => frame.type === 'send')
    const delivered = nextEvent(recipient, 'direct_message')

    const receipt = await sender.send('worker-1', { invoice: 7 }, { idempotencyKey: 'inv-7', receipt: true })

    expect((await sent).frame).toEqual({
      type: 'send',
      id: expect.any(String),
      to: 'worker-1',
      data: { invoice: 7 },
      idempotencyKey: 'inv-7',
      receipt: true,
    })
    expect(receipt).toEqual({
      id: expect.any(String),
      to: 'worker-1',
      deliveryId: expect.any(String),
      timestamp: expect.any(Number),
    })
    expect(await delivered).toMatchObject({
      id: receipt.id,
      deliveryId: receipt.deliveryId,
      attempt: 1,
      from: 'planner',
      data: { invoice: 7 },
    })
  })

  it('emits receipt events as the recipient gets and acknowledges the message', async () => {
    const server = await fixtures.server()
    const { client: recipient } = await connected(server)
    recipient.on('direct_message', () => undefined)
    const sender = fixtures.client(server.url, { clientId: 'planner' })
    await sender.connect()
    const receipts = record(sender, 'receipt')
    const acked = nextEvent(sender, 'receipt', (event) => event.status === 'acked')

    const receipt = await sender.send('worker-1', 'hello', { receipt: true })
    await acked

    expect(receipts).toEqual([
      {
        messageId: receipt.id,
        deliveryId: receipt.deliveryId,
        to: 'worker-1',
        status: 'delivered',
        attempt: 1,
        timestamp: expect.any(Number),
      },
      {
        messageId: receipt.id,
        deliveryId: receipt.deliveryId,
        to: 'worker-1',
        status: 'acked',
        attempt: 1,
        timestamp: expect.any(Number),
      },
    ])
  })

  it('send without options sends neither idempotencyKey nor receipt, and a repeated key is a duplicate', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { clientId: 'planner' })
    await client.connect()
    const sent = server.nextFrame((frame) => frame.type === 'send')
    await client.send('offline-agent', 1)
    expect((await sent).frame).not.toHaveProperty('idempotencyKey')
    expect((await sent).frame).not.toHaveProperty('receipt')

    const first = await client.send('offline-agent', 2, { idempotencyKey: 'k' })
    const again = await client.send('offline-agent', 2, { idempotencyKey: 'k' })
    expect(again).toEqual({ ...first, duplicate: true })
  })

  it('send rejects an invalid recipient or missing data without sending', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await expect(client.send('not a client id', 1)).rejects.toMatchObject({ code: 'bad_request' })
    await expect(client.send('agent', undefined)).rejects.toMatchObject({ code: 'bad_request' })
    await expect(client.send('agent', 1, { idempotencyKey: '' })).rejects.toMatchObject({
      code: 'bad_request',
    })
    expect(server.welcomed()[0]?.frames.filter((frame) => frame.type === 'send')).toEqual([])
  })

  it('publish puts the idempotencyKey on the wire and surfaces offset, epoch and duplicate', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const published = server.nextFrame((frame) => frame.type === 'publish')

    const first = await client.publish('alerts', { level: 'high' }, { idempotencyKey: 'alert-7731' })
    const again = await client.publish('alerts', { level: 'high' }, { idempotencyKey: 'alert-7731' })

    expect((await published).frame).toMatchObject({ idempotencyKey: 'alert-7731' })
    expect(first).toMatchObject({ channel: 'alerts', offset: 1, epoch: 'ep1' })
    expect(first).not.toHaveProperty('duplicate')
    expect(again).toEqual({ ...first, duplicate: true })
  })
})
