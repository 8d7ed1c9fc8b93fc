import { describe, expect, it, vi } from 'vitest'
import { ParleyError, TimeoutError } from './errors.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

/** A scripted gateway that refuses every subscribe with a non-retryable `forbidden`. */
function forbiddingSubscribeServer() {
  return fixtures.server({
    onRequest(connection, frame) {
      if (frame.type !== 'subscribe') return false
      connection.send({ type: 'error', id: frame.id, code: 'forbidden', message: 'no', retryable: false })
      return true
    },
  })
}

describe('PushClient request errors', () => {
  it('rejects with a ParleyError carrying the error frame code, retryable and retryAfterMs', async () => {
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (frame.type !== 'publish') return false
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'rate_limited',
          message: 'slow down',
          retryable: true,
          retryAfterMs: 250,
        })
        return true
      },
    })
    const client = fixtures.client(server.url)
    await client.connect()

    const error = await client.publish('alerts', 1).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({
      code: 'rate_limited',
      message: 'slow down',
      retryable: true,
      retryAfterMs: 250,
    })
    expect(client.state).toBe('connected')
  })

  it('rejects a subscribe the server forbids and does not remember the channel', async () => {
    const server = await forbiddingSubscribeServer()
    const client = fixtures.client(server.url)
    await client.connect()

    await expect(client.subscribe('secret')).rejects.toMatchObject({ code: 'forbidden', retryable: false })
    expect(client.subscriptions).toEqual([])
  })

  it('rejects with TimeoutError when no reply comes within requestTimeoutMs, and keeps working', async () => {
    let answer = false
    const server = await fixtures.server({ onRequest: () => !answer })
    const client = fixtures.client(server.url, { requestTimeoutMs: 100 })
    await client.connect()

    const error = await client.publish('alerts', 1).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'timeout', retryable: true })
    answer = true
    expect(await client.publish('alerts', 2)).toMatchObject({ delivered: 0 })
  })

  it('rejects in-flight requests with a retryable unavailable error when the connection is lost', async () => {
    const server = await fixtures.server({ onRequest: () => true })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()

    const pending = client.publish('alerts', 1).catch((caught: unknown) => caught)
    await server.nextFrame((frame) => frame.type === 'publish')
    server.dropAll()

    expect(await pending).toMatchObject({ name: 'ParleyError', code: 'unavailable', retryable: true })
  })

  it('rejects bad channel names and missing data locally with bad_request', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const frames = server.welcomed()[0]?.frames.length

    await expect(client.subscribe('has space')).rejects.toMatchObject({ code: 'bad_request' })
    await expect(client.publish('ok', undefined)).rejects.toMatchObject({ code: 'bad_request' })
    expect(server.welcomed()[0]?.frames.length).toBe(frames)
  })

  it('emits error for an error frame that answers no request', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const error = nextEvent(client, 'error')
    server
      .welcomed()[0]
      ?.send({ type: 'error', code: 'invalid_frame', message: 'bad pong', retryable: false })

    expect(await error).toMatchObject({ code: 'invalid_frame', message: 'bad pong' })
    expect(client.state).toBe('connected')
  })

  it('emits error for a frame that breaks the protocol, and stays connected', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const error = nextEvent(client, 'error')
    server.welcomed()[0]?.send({ type: 'channel_message', channel: 'a' })

    expect(await error).toMatchObject({ code: 'invalid_frame' })
    expect(await client.publish('a', 1)).toMatchObject({ delivered: 0 })
  })
})

describe('PushClient waitFor', () => {
  it('rejects with TimeoutError after the timeout and removes its listener', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const listeners = (): number =>
      (client as unknown as { emitter: { listenerCount(event: string): number } }).emitter.listenerCount(
        'channel_message',
      )

    // Order, not elapsed time: a timer armed just before waitFor's, 1 ms shorter, fires first however loaded
    // the machine (timers armed in one tick share their start time).
    let shorterFired = false
    setTimeout(() => {
      shorterFired = true
    }, 149)
    const error = await client.waitFor('quiet', { timeout: 150 }).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).name).toBe('TimeoutError')
    expect(shorterFired).toBe(true)
    expect(listeners()).toBe(0)
  })

  it('rejects with the subscribe error when the channel cannot be subscribed', async () => {
    const server = await forbiddingSubscribeServer()
    const client = fixtures.client(server.url)
    await client.connect()

    await expect(client.waitFor('secret', { timeout: 1_000 })).rejects.toMatchObject({ code: 'forbidden' })
  })
})

describe('PushClient refusals', () => {
  it('stops for good on close 4001 after a wrong token: connect rejects, error emitted once, no reconnect', async () => {
    const server = await fixtures.server({ requireToken: 'right' })
    const client = fixtures.client(server.url, { authToken: 'wrong', reconnect: { initialDelayMs: 1 } })
    const errors = record(client, 'error')
    const reconnecting = record(client, 'reconnecting')

    const error = await client.connect().catch((caught: unknown) => caught)
    await client.waitClosed()

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'unauthorized', retryable: false })
    expect(errors).toEqual([error])
    expect(reconnecting).toEqual([])
    expect(client.state).toBe('closed')
  })

  it('stops for good when a connected client is closed with 4008 forbidden', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 1 } })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')
    const disconnect = nextEvent(client, 'disconnect')
    const error = nextEvent(client, 'error')

    server.welcomed()[0]?.close(4008, 'revoked')

    expect(await disconnect).toEqual({ code: 4008, reason: 'revoked', willReconnect: false })
    expect(await error).toMatchObject({ code: 'forbidden', retryable: false })
    await client.waitClosed()
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
  })

  it('stops for good with conflict when another connection took its session over (4011)', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 1 } })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')
    const disconnect = nextEvent(client, 'disconnect')
    const error = nextEvent(client, 'error')

    server.welcomed()[0]?.close(4011, 'another connection resumed this session')

    expect(await disconnect).toMatchObject({ code: 4011, willReconnect: false })
    expect(await error).toMatchObject({ code: 'conflict', retryable: false })
    await client.waitClosed()
    expect(reconnecting).toEqual([])
  })

  it('reports the refusal itself when an unrelated error frame came earlier on the connection', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const connection = server.welcomed()[0]
    const first = nextEvent(client, 'error')
    connection?.send({ type: 'error', code: 'invalid_frame', message: 'old news', retryable: false })
    await first

    const refusal = nextEvent(client, 'error')
    connection?.close(4001, 'token revoked')

    expect(await refusal).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('token revoked'),
    })
    await client.waitClosed()
  })

  it('stops for good when the gateway refuses the hello with a non-retryable error and keeps the socket open', async () => {
    // What the gateway does with a hello that fails validation (a client id with a space): an invalid_frame
    // error, no welcome, no close.
    const server = await fixtures.server({ welcome: false })
    server.on('frame', (connection, frame) => {
      if (frame.type !== 'hello') return
      connection.send({
        type: 'error',
        code: 'invalid_frame',
        message: 'clientId: invalid',
        retryable: false,
      })
    })
    const client = fixtures.client(server.url, {
      clientId: 'has space',
      connectTimeoutMs: 200,
      reconnect: { initialDelayMs: 5 },
    })
    const reconnecting = record(client, 'reconnecting')
    const errors = record(client, 'error')

    const error = await client.connect().catch((caught: unknown) => caught)

    expect(error).toMatchObject({ code: 'invalid_frame', message: 'clientId: invalid' })
    expect(errors).toEqual([error])
    expect(reconnecting).toEqual([])
    expect(client.state).toBe('closed')
  })

  it('closes after a loss when reconnect is off', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: false })
    await client.connect()
    const disconnect = nextEvent(client, 'disconnect')

    server.dropAll()

    expect(await disconnect).toMatchObject({ willReconnect: false })
    await client.waitClosed()
    expect(client.state).toBe('closed')
  })

  it('gives up after maxAttempts and rejects connect()', async () => {
    const server = await fixtures.server()
    await server.stop()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 5, maxAttempts: 2 } })
    const reconnecting = record(client, 'reconnecting')
    const errors = record(client, 'error')

    const error = await client.connect().catch((caught: unknown) => caught)

    expect(error).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('2 reconnect attempts'),
    })
    expect(reconnecting.map((event) => event.attempt)).toEqual([1, 2])
    expect(errors).toEqual([error])
    expect(client.state).toBe('closed')
  })

  it('times out an attempt that gets no welcome within connectTimeoutMs', async () => {
    const server = await fixtures.server({ welcome: false })
    const logger = { warn: vi.fn() }
    const client = fixtures.client(server.url, { connectTimeoutMs: 100, reconnect: false, logger })

    const error = await client.connect().catch((caught: unknown) => caught)

    expect(error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('4002') })
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ code: 4002 }), expect.any(String))
    expect(client.state).toBe('closed')
  })
})
