import { describe, expect, it, vi } from 'vitest'
import { ParleyError } from './errors.js'
import type { ChannelMessage } from './push-client-types.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

describe('PushClient connect', () => {
  it('walks disconnected → connecting → connected and exposes the welcome', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    const states = record(client, 'state')
    expect(client.state).toBe('disconnected')

    const connected = nextEvent(client, 'connect')
    const welcome = await client.connect()

    expect(client.state).toBe('connected')
    expect(states).toEqual([
      { from: 'disconnected', to: 'connecting' },
      { from: 'connecting', to: 'connected' },
    ])
    expect(welcome.sessionId).toMatch(/^session-/)
    expect(client.sessionId).toBe(welcome.sessionId)
    expect(client.clientId).toBe(welcome.clientId)
    expect(await connected).toEqual(welcome)
  })

  it('sends the token in hello.auth and never in the URL', async () => {
    const server = await fixtures.server({ requireToken: 'secret-token' })
    const client = fixtures.client(server.url, { authToken: 'secret-token', clientId: 'agent-7' })
    await client.connect()

    const [connection] = server.welcomed()
    expect(connection?.hello?.auth).toEqual({ token: 'secret-token' })
    expect(connection?.hello?.clientId).toBe('agent-7')
    expect(connection?.hello?.client?.name).toBe('@parley/client')
    expect(client.url).not.toContain('secret-token')
    expect(client.clientId).toBe('agent-7')
  })

  it('answers connect() at once when already connected', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    const first = await client.connect()
    expect(await client.connect()).toBe(first)
    expect(server.welcomed()).toHaveLength(1)
  })
})

describe('PushClient channels', () => {
  it('publish resolves with the message id and how many subscribers it reached', async () => {
    const server = await fixtures.server()
    const subscriber = fixtures.client(server.url)
    const publisher = fixtures.client(server.url)
    await Promise.all([subscriber.connect(), publisher.connect()])
    await subscriber.subscribe('alerts')

    const received = nextEvent(subscriber, 'channel_message')
    const receipt = await publisher.publish('alerts', { level: 'high' })

    expect(receipt).toMatchObject({ channel: 'alerts', delivered: 1 })
    expect(receipt.id).toEqual(expect.any(String))
    expect(receipt.timestamp).toEqual(expect.any(Number))
    const message = await received
    expect(message).toEqual({
      channel: 'alerts',
      data: { level: 'high' },
      id: receipt.id,
      source: publisher.clientId,
      timestamp: receipt.timestamp,
      offset: receipt.offset,
      epoch: receipt.epoch,
    })
  })

  it('unsubscribe stops delivery and forgets the channel', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    expect(client.subscriptions).toEqual(['a'])
    await client.unsubscribe('a')
    expect(client.subscriptions).toEqual([])
    expect(await client.publish('a', 1)).toMatchObject({ delivered: 0 })
  })

  it('broadcast reaches every connection as broadcast_message', async () => {
    const server = await fixtures.server()
    const sender = fixtures.client(server.url)
    const other = fixtures.client(server.url)
    await Promise.all([sender.connect(), other.connect()])

    const received = nextEvent(other, 'broadcast_message')
    const receipt = await sender.broadcast({ hello: 'all' })

    expect(receipt.delivered).toBe(2)
    expect(await received).toMatchObject({ data: { hello: 'all' }, id: receipt.id, source: sender.clientId })
  })

  it('waitFor subscribes first and resolves with the next message on that channel', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const subscribed = server.nextFrame((frame) => frame.type === 'subscribe' && frame.channel === 'jobs')
    const waiting = client.waitFor('jobs', { timeout: 2_000 })
    await subscribed
    server.deliver('other', 'ignored')
    server.deliver('jobs', { job: 1 })

    expect(await waiting).toMatchObject({ channel: 'jobs', data: { job: 1 } })
    expect(client.subscriptions).toEqual(['jobs'])
  })

  it('accepts requests made while reconnecting and sends them once connected', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20 } })
    await client.connect()
    await server.stop()
    await nextEvent(client, 'reconnecting')
    expect(client.state).toBe('connecting')

    const receipt = client.publish('queued', 'hello')
    await server.restart()
    expect(await receipt).toMatchObject({ channel: 'queued', delivered: 0 })
  })
  it('hands a message delivered twice to the handlers once', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    const seen = record(client, 'channel_message')
    const connection = server.welcomed()[0]
    const duplicate = { type: 'channel_message', channel: 'a', data: 1, id: 'm-1', source: 's', timestamp: 1 }

    connection?.send(duplicate)
    connection?.send(duplicate)
    const last = nextEvent(client, 'channel_message', (message) => message.id === 'm-2')
    connection?.send({ ...duplicate, id: 'm-2', data: 2 })
    await last

    expect(seen.map((message) => message.id)).toEqual(['m-1', 'm-2'])
  })
})

describe('PushClient heartbeats and handlers', () => {
  it('answers a server ping with a pong carrying the same ts', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const [connection] = server.welcomed()

    const pong = server.nextFrame((frame) => frame.type === 'pong')
    connection?.send({ type: 'ping', ts: 12345 })

    expect((await pong).frame).toEqual({ type: 'pong', ts: 12345 })
    expect(client.state).toBe('connected')
  })

  it('keeps delivering when a user handler throws, and reports it to the logger', async () => {
    const server = await fixtures.server()
    const logger = { error: vi.fn() }
    const client = fixtures.client(server.url, { logger })
    await client.connect()
    await client.subscribe('a')

    client.on('channel_message', () => {
      throw new Error('handler bug')
    })
    const seen: ChannelMessage[] = []
    client.on('channel_message', (message) => {
      seen.push(message)
    })

    const first = nextEvent(client, 'channel_message')
    server.deliver('a', 1)
    await first
    const second = nextEvent(client, 'channel_message')
    server.deliver('a', 2)
    await second

    expect(seen.map((message) => message.data)).toEqual([1, 2])
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'channel_message', error: expect.stringContaining('handler bug') }),
      expect.any(String),
    )
    expect(await client.publish('a', 3)).toMatchObject({ delivered: 1 })
  })

  it('off removes a listener', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('a')
    const removed = vi.fn()
    client.on('channel_message', removed)
    client.off('channel_message', removed)

    const received = nextEvent(client, 'channel_message')
    server.deliver('a', 'x')
    await received
    expect(removed).not.toHaveBeenCalled()
  })
})

describe('PushClient close', () => {
  it('close() ends in state closed, tells the server, resolves waitClosed and does not reconnect', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 1 } })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')
    const disconnect = nextEvent(client, 'disconnect')
    const serverSawClose = server.nextClosed()

    await client.close()

    expect(client.state).toBe('closed')
    expect(await disconnect).toEqual({ code: 1000, reason: 'client closed', willReconnect: false })
    expect((await serverSawClose).code).toBe(1000)
    await client.waitClosed()
    expect(reconnecting).toEqual([])
    await expect(client.publish('a', 1)).rejects.toMatchObject({ code: 'invalid_state' })
  })

  it('can connect again after close(), with the channels it had subscribed', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('kept')
    await client.close()
    const welcomed = server.nextWelcomed()
    await client.connect()
    expect(client.state).toBe('connected')
    expect([...(await welcomed).channels]).toEqual(['kept'])
    expect(await client.publish('a', 1)).toMatchObject({ delivered: 0 })
  })

  it('rejects requests made before connect() with invalid_state', async () => {
    const client = fixtures.client('ws://127.0.0.1:9/ws')
    const error = await client.publish('a', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'invalid_state', retryable: false })
  })
})
