import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it, vi } from 'vitest'
import type { ChannelMessage, SubscribedInfo } from './push-client-types.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

const subscribeFrame = (channel: string) => (frame: ClientFrame) =>
  frame.type === 'subscribe' && frame.channel === channel

describe('PushClient stream positions', () => {
  it('keeps the last offset per channel and drops a live message whose offset is not above it', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    expect(client.positionOf('a')).toEqual({ offset: 0, epoch: 'ep1' })
    const seen = record(client, 'channel_message')

    server.deliver('a', 'one')
    server.deliver('a', 'two')
    const [connection] = server.welcomed()
    const copy = { type: 'channel_message', channel: 'a', source: 's', timestamp: 1, epoch: 'ep1' }
    // Different ids, so only the offset can tell these are duplicates.
    connection?.send({ ...copy, id: 'dup-1', data: 'one again', offset: 1 })
    connection?.send({ ...copy, id: 'dup-2', data: 'two again', offset: 2 })
    const third = nextEvent(client, 'channel_message', (message) => message.data === 'three')
    server.deliver('a', 'three')
    await third

    expect(seen.map((message) => [message.data, message.offset])).toEqual([
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ])
    expect(client.positionOf('a')).toEqual({ offset: 3, epoch: 'ep1' })
  })

  it('adopts a new epoch carried by a live message instead of dropping its lower offset', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    server.deliver('a', 1)
    server.deliver('a', 2)
    const [connection] = server.welcomed()

    const received = nextEvent(client, 'channel_message', (message) => message.epoch === 'ep-new')
    connection?.send({
      type: 'channel_message',
      channel: 'a',
      data: 'fresh',
      id: 'x1',
      source: 's',
      timestamp: 1,
      offset: 1,
      epoch: 'ep-new',
    })

    expect((await received).data).toBe('fresh')
    expect(client.positionOf('a')).toEqual({ offset: 1, epoch: 'ep-new' })
  })

  it('forgets the position of a channel once unsubscribed', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    await client.unsubscribe('a')
    expect(client.positionOf('a')).toBeUndefined()
  })
})

describe('PushClient recovery', () => {
  it('a plain subscribe reports no recovery and the position it continues from', async () => {
    const server = await fixtures.server()
    server.deliver('a', 1)
    const client = fixtures.client(server.url)
    await client.connect()
    const subscribed = nextEvent(client, 'subscribed')

    const receipt = await client.subscribe('a')

    const expected: SubscribedInfo = {
      channel: 'a',
      wasRecovering: false,
      recovered: false,
      replayed: 0,
      offset: 1,
      epoch: 'ep1',
      durable: false,
    }
    expect(receipt).toEqual(expected)
    expect(await subscribed).toEqual(expected)
    const [connection] = server.welcomed()
    expect(connection?.frames.find(subscribeFrame('a'))).not.toHaveProperty('since')
  })

  it('subscribe with since sends it and emits the replayed messages, flagged, before it resolves', async () => {
    const server = await fixtures.server()
    for (const data of ['p1', 'p2', 'p3']) server.deliver('a', data)
    const client = fixtures.client(server.url)
    await client.connect()
    const seen = record(client, 'channel_message')

    const receipt = await client.subscribe('a', { since: { offset: 1, epoch: 'ep1' } })

    const [connection] = server.welcomed()
    expect(connection?.frames.find(subscribeFrame('a'))).toMatchObject({ since: { offset: 1, epoch: 'ep1' } })
    expect(receipt).toMatchObject({
      wasRecovering: true,
      recovered: true,
      replayed: 2,
      offset: 3,
      epoch: 'ep1',
    })
    expect(seen.map((message) => [message.data, message.replayed])).toEqual([
      ['p2', true],
      ['p3', true],
    ])
    const live = nextEvent(client, 'channel_message')
    server.deliver('a', 'p4')
    const message = await live
    expect(message.data).toBe('p4')
    expect(message).not.toHaveProperty('replayed')
  })

  it('resubscribes after a reconnect with since = the last seen position and gets what it missed', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20 } })
    await client.connect()
    await client.subscribe('a')
    const firstTwo = nextEvent(client, 'channel_message', (message) => message.offset === 2)
    server.deliver('a', 'seen-1')
    server.deliver('a', 'seen-2')
    await firstTwo

    await server.stop()
    await nextEvent(client, 'reconnecting')
    server.deliver('a', 'missed-3')
    server.deliver('a', 'missed-4')
    const order: string[] = []
    client.on('channel_message', (message: ChannelMessage) => {
      order.push(`message ${String(message.data)} replayed=${String(message.replayed)}`)
    })
    client.on('subscribed', (info) => {
      order.push(`subscribed recovered=${info.recovered}`)
    })
    const subscribed = nextEvent(client, 'subscribed')
    const resubscribe = server.nextFrame(subscribeFrame('a'))
    const reconnected = nextEvent(client, 'connect')
    await server.restart()

    expect((await resubscribe).frame).toMatchObject({ since: { offset: 2, epoch: 'ep1' } })
    expect(await subscribed).toEqual({
      channel: 'a',
      wasRecovering: true,
      recovered: true,
      replayed: 2,
      offset: 4,
      epoch: 'ep1',
      durable: false,
    })
    await reconnected
    expect(order).toEqual([
      'message missed-3 replayed=true',
      'message missed-4 replayed=true',
      'subscribed recovered=true',
    ])
    expect(client.positionOf('a')).toEqual({ offset: 4, epoch: 'ep1' })
  })

  it('emits subscribed with recovered: false and warns when the gateway can no longer replay everything', async () => {
    const server = await fixtures.server({ historySize: 2 })
    const logger = { warn: vi.fn() }
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20 }, logger })
    await client.connect()
    await client.subscribe('a')
    const first = nextEvent(client, 'channel_message')
    server.deliver('a', 'seen-1')
    await first

    await server.stop()
    await nextEvent(client, 'reconnecting')
    // Three missed, two kept: a partial replay would hide the loss, so there is none.
    for (const data of ['m2', 'm3', 'm4']) server.deliver('a', data)
    const replayed = record(client, 'channel_message')
    const subscribed = nextEvent(client, 'subscribed')
    await server.restart()

    expect(await subscribed).toMatchObject({ wasRecovering: true, recovered: false, replayed: 0, offset: 4 })
    expect(replayed).toEqual([])
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ channel: 'a', since: { offset: 1, epoch: 'ep1' } }),
      expect.stringContaining('could not recover'),
    )
    // It continues from the current position: the next publication is not mistaken for a duplicate.
    await nextEvent(client, 'connect')
    const next = nextEvent(client, 'channel_message')
    server.deliver('a', 'm5')
    expect(await next).toMatchObject({ data: 'm5', offset: 5 })
  })

  it('adopts the new epoch of a gateway that lost its history, whose offsets start over', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20 } })
    await client.connect()
    await client.subscribe('a')
    const seenTwo = nextEvent(client, 'channel_message', (message) => message.offset === 2)
    server.deliver('a', 1)
    server.deliver('a', 2)
    await seenTwo

    await server.stop()
    server.newEpoch()
    const subscribed = nextEvent(client, 'subscribed')
    const reconnected = nextEvent(client, 'connect')
    await server.restart()

    expect(await subscribed).toMatchObject({ wasRecovering: true, recovered: false, offset: 0, epoch: 'ep2' })
    await reconnected
    expect(client.positionOf('a')).toEqual({ offset: 0, epoch: 'ep2' })
    // Offset 1 is below the old position 2: kept only because the epoch was adopted.
    const next = nextEvent(client, 'channel_message')
    server.deliver('a', 'new stream')
    expect(await next).toMatchObject({ data: 'new stream', offset: 1, epoch: 'ep2' })
  })

  it('rejects a malformed since without sending anything', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await expect(client.subscribe('a', { since: { offset: -1, epoch: '' } })).rejects.toMatchObject({
      code: 'bad_request',
    })
    expect(server.welcomed()[0]?.frames.filter((frame) => frame.type === 'subscribe')).toEqual([])
  })
})

describe('PushClient durable subscriptions', () => {
  it('rejects a durable subscribe without a clientId option with bad_request, sending nothing', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const error = await client.subscribe('jobs', { durable: true }).catch((caught: unknown) => caught)

    expect(error).toMatchObject({ name: 'ParleyError', code: 'bad_request' })
    expect(server.welcomed()[0]?.frames.filter((frame) => frame.type === 'subscribe')).toEqual([])
    expect(client.subscriptions).toEqual([])
  })

  it('subscribes durably and subscribes durably again, without since, after a reconnect', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { clientId: 'worker-1', reconnect: { initialDelayMs: 20 } })
    await client.connect()

    const receipt = await client.subscribe('jobs', { durable: true })
    expect(receipt).toMatchObject({ channel: 'jobs', durable: true })
    expect(server.welcomed()[0]?.frames.find(subscribeFrame('jobs'))).toMatchObject({ durable: true })

    const resubscribe = server.nextFrame(subscribeFrame('jobs'))
    server.dropAll()
    const { frame } = await resubscribe
    expect(frame).toMatchObject({ durable: true })
    expect(frame).not.toHaveProperty('since')
  })
})
