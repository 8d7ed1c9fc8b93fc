import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import { ParleyError, TimeoutError } from './errors.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

describe('PushClient close() settles everything', () => {
  it('rejects a waiting waitFor at once with the close error and removes its listener', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('news')
    const listeners = (): number =>
      (client as unknown as { emitter: { listenerCount(event: string): number } }).emitter.listenerCount(
        'channel_message',
      )

    const waiting = client.waitFor('news', { timeout: 60_000 }).catch((caught: unknown) => caught)
    expect(listeners()).toBe(1)
    await client.close()

    const error = await waiting
    expect(error).toBeInstanceOf(ParleyError)
    expect(error).not.toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('closed') })
    expect(listeners()).toBe(0)
  })

  it('rejects waitFor on a closed client with invalid_state even for a remembered channel', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('news')
    await client.close()

    await expect(client.waitFor('news', { timeout: 60_000 })).rejects.toMatchObject({ code: 'invalid_state' })
  })

  it('a second close() resolves only once the socket is closed, like the first', async () => {
    const server = await fixtures.server()
    const sockets: NodeWebSocket[] = []
    class TrackedSocket extends NodeWebSocket {
      constructor(url: string) {
        super(url)
        sockets.push(this)
      }
    }
    const client = fixtures.client(server.url, { WebSocket: TrackedSocket })
    await client.connect()

    const first = client.close()
    await client.close()

    expect(sockets[0]?.readyState).toBe(NodeWebSocket.CLOSED)
    await first
  })
})

describe('PushClient close() from inside a listener', () => {
  it('close() in a disconnect listener stops the reconnect that was about to be scheduled', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 1 } })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')
    const states = record(client, 'state')
    const disconnects = record(client, 'disconnect')
    let closing: Promise<void> | undefined
    client.on('disconnect', () => {
      closing = client.close()
    })

    const disconnected = nextEvent(client, 'disconnect')
    server.dropAll()
    await disconnected
    await closing
    // Had a reconnect been scheduled (1 ms), this round trip gives it time to show up as a new connection.
    const other = fixtures.client(server.url)
    await other.connect()

    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
    expect(states.map((change) => change.to)).toEqual(['closed'])
    expect(disconnects).toHaveLength(1)
    expect(server.welcomed()).toHaveLength(1)
  })

  it('close() in a reconnecting listener leaves no reconnect timer behind', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 60_000 }, random: () => 0.5 })
    await client.connect()
    client.on('reconnecting', () => {
      void client.close()
    })

    const closed = client.waitClosed()
    server.dropAll()
    await closed

    expect((client as unknown as { reconnectTimer: unknown }).reconnectTimer).toBeUndefined()
  })
})

describe('PushClient subscribe / unsubscribe interleavings', () => {
  it('an unsubscribe issued before the subscribe reply wins, now and after a reconnect', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()

    const subscribed = client.subscribe('flip')
    const unsubscribed = client.unsubscribe('flip')
    await Promise.all([subscribed, unsubscribed])
    expect(client.subscriptions).toEqual([])

    await client.subscribe('kept')
    const reconnected = nextEvent(client, 'connect')
    const welcomed = server.nextWelcomed()
    server.dropAll()
    const connection = await welcomed
    await reconnected
    expect([...connection.channels]).toEqual(['kept'])
  })

  it('a subscribe issued after an unsubscribe that is still in flight wins', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    await client.subscribe('flop')

    const unsubscribed = client.unsubscribe('flop')
    const subscribed = client.subscribe('flop')
    await Promise.all([unsubscribed, subscribed])

    expect(client.subscriptions).toEqual(['flop'])
    expect([...(server.welcomed()[0]?.channels ?? [])]).toEqual(['flop'])
  })

  it('an unsubscribe while reconnecting is not subscribed again on the new connection', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20 } })
    await client.connect()
    await client.subscribe('gone')
    await client.subscribe('stays')
    await server.stop()
    await nextEvent(client, 'reconnecting')

    expect(await client.unsubscribe('gone')).toEqual({ channel: 'gone' })
    const welcomed = server.nextWelcomed()
    const reconnected = nextEvent(client, 'connect')
    await server.restart()
    const connection = await welcomed
    await reconnected

    expect([...connection.channels]).toEqual(['stays'])
    expect(connection.frames.filter((frame) => frame.type === 'subscribe').length).toBe(1)
    expect(client.subscriptions).toEqual(['stays'])
  })

  it('unsubscribes on the gateway a channel dropped while its re-subscribe is in flight', async () => {
    let holdResubscribe = false
    let held: (() => void) | undefined
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (!holdResubscribe || frame.type !== 'subscribe') return false
        held = () => {
          connection.channels.add(frame.channel)
          connection.send({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
        }
        return true
      },
    })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()
    await client.subscribe('late')
    holdResubscribe = true
    const resubscribe = server.nextFrame((frame) => frame.type === 'subscribe')
    server.dropAll()
    const { connection } = await resubscribe

    const unsubscribeSent = server.nextFrame((frame) => frame.type === 'unsubscribe')
    const unsubscribed = client.unsubscribe('late')
    held?.()
    await unsubscribeSent
    await unsubscribed
    await nextEvent(client, 'connect')

    expect([...connection.channels]).toEqual([])
    expect(client.subscriptions).toEqual([])
  })

  it('keeps retrying a re-subscribe that failed for a transient reason', async () => {
    let failures = 0
    let refuse = false
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (!refuse || frame.type !== 'subscribe' || failures >= 2) return false
        failures += 1
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'rate_limited',
          message: 'slow down',
          retryable: true,
          retryAfterMs: 20,
        })
        return true
      },
    })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()
    await client.subscribe('flaky')

    refuse = true
    const error = nextEvent(client, 'error')
    const welcomed = server.nextWelcomed()
    server.dropAll()
    const connection = await welcomed
    expect(await error).toMatchObject({ code: 'rate_limited', retryable: true })

    // The third subscribe on the new connection is answered; the channel must then be delivered again.
    await server.nextFrame(
      (frame, on) =>
        on === connection && frame.type === 'subscribe' && failures === 2 && on.channels.size > 0,
    )
    const message = nextEvent(client, 'channel_message')
    expect(server.deliver('flaky', 'back')).toBe(1)
    expect(await message).toMatchObject({ channel: 'flaky', data: 'back' })
    expect(client.subscriptions).toEqual(['flaky'])
  })
  it('keeps a channel whose re-subscribe timed out and whose retry the gateway answers with conflict', async () => {
    // The gateway's answers to the re-subscribes of one connection: the first is held (the gateway is busy
    // setting it up), the retry after the client's timeout meets it still pending (`conflict`, as the gateway
    // answers), the next one is served.
    let resubscribes = 0
    let armed = false
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (!armed || frame.type !== 'subscribe') return false
        resubscribes += 1
        if (resubscribes === 1) return true
        if (resubscribes > 2) return false
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'conflict',
          message: `a subscription to ${frame.channel} is still being set up`,
          retryable: false,
        })
        return true
      },
    })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 }, requestTimeoutMs: 300 })
    await client.connect()
    await client.subscribe('busy')

    armed = true
    const conflict = nextEvent(client, 'error', (error) => error.code === 'conflict')
    const welcomed = server.nextWelcomed()
    server.dropAll()
    const connection = await welcomed
    await conflict

    await server.nextFrame(
      (frame, on) =>
        on === connection && frame.type === 'subscribe' && resubscribes === 3 && on.channels.size > 0,
    )
    const message = nextEvent(client, 'channel_message')
    expect(server.deliver('busy', 'still here')).toBe(1)
    expect(await message).toMatchObject({ channel: 'busy', data: 'still here' })
    expect(client.subscriptions).toEqual(['busy'])
  })
})

describe('PushClient connect races and events', () => {
  it('two concurrent connect() calls open one socket and resolve with the same welcome', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    const states = record(client, 'state')

    const [first, second] = await Promise.all([client.connect(), client.connect()])

    expect(second).toEqual(first)
    expect(server.connections.size).toBe(1)
    expect(states.map((change) => change.to)).toEqual(['connecting', 'connected'])
  })

  it('pairs every disconnect with a connect, even when a connection is lost while re-subscribing', async () => {
    let answerSubscribes = true
    const server = await fixtures.server({
      onRequest: (_connection, frame) => frame.type === 'subscribe' && !answerSubscribes,
    })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 }, requestTimeoutMs: 5_000 })
    await client.connect()
    await client.subscribe('a')
    const events: string[] = []
    client.on('connect', () => events.push('connect'))
    client.on('disconnect', () => events.push('disconnect'))

    answerSubscribes = false
    const resubscribing = server.nextFrame((frame) => frame.type === 'subscribe')
    server.dropAll()
    await resubscribing
    expect(client.state).toBe('connecting')

    answerSubscribes = true
    const reconnected = nextEvent(client, 'connect')
    server.dropAll()
    await reconnected

    expect(events).toEqual(['disconnect', 'connect'])
    expect(client.state).toBe('connected')
  })

  it('an error with no error listener neither throws nor disturbs the connection', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const pong = server.nextFrame((frame) => frame.type === 'pong')
    server.welcomed()[0]?.send({ type: 'error', code: 'internal', message: 'oops', retryable: true })
    server.welcomed()[0]?.send('not json' as unknown as Record<string, unknown>)
    server.welcomed()[0]?.send({ type: 'ping', ts: 1 })
    await pong

    expect(client.state).toBe('connected')
    expect(await client.publish('a', 1)).toMatchObject({ delivered: 0 })
  })

  it('a late error reply to a timed-out request does not hold back the next reconnect', async () => {
    const server = await fixtures.server({ onRequest: (_connection, frame) => frame.type === 'publish' })
    const client = fixtures.client(server.url, { requestTimeoutMs: 50, reconnect: { initialDelayMs: 10 } })
    await client.connect()
    const { frame } = await Promise.all([
      server.nextFrame((sent) => sent.type === 'publish'),
      expect(client.publish('a', 1)).rejects.toBeInstanceOf(TimeoutError),
    ]).then(([sent]) => sent)

    const reported = nextEvent(client, 'error')
    server.welcomed()[0]?.send({
      type: 'error',
      id: (frame as { id: string }).id,
      code: 'rate_limited',
      message: 'too late',
      retryable: true,
      retryAfterMs: 60_000,
    })
    expect(await reported).toMatchObject({ code: 'rate_limited' })

    const reconnecting = nextEvent(client, 'reconnecting')
    server.dropAll()
    expect((await reconnecting).delayMs).toBeLessThan(10)
  })
})

describe('PushClient timeouts beyond the timer range', () => {
  it('waitFor with timeout Infinity waits for the message instead of failing at once', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const subscribed = server.nextFrame((frame) => frame.type === 'subscribe')
    const waiting = client.waitFor('slow', { timeout: Number.POSITIVE_INFINITY })
    await subscribed
    server.deliver('slow', 'eventually')

    expect(await waiting).toMatchObject({ data: 'eventually' })
  })

  it('a requestTimeoutMs above 2^31 - 1 ms does not time requests out at once', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { requestTimeoutMs: 2 ** 31 })
    await client.connect()

    expect(await client.publish('a', 1)).toMatchObject({ delivered: 0 })
  })
})

describe('PushClient timers beyond the timer range', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('never arms a timer above 2^31 - 1 ms, which would fire at once (huge heartbeat, timeouts, retryAfterMs)', async () => {
    const server = await fixtures.server({ heartbeatIntervalMs: 2 ** 31 })
    const setTimer = vi.spyOn(globalThis, 'setTimeout')
    const client = fixtures.client(server.url, {
      connectTimeoutMs: Number.POSITIVE_INFINITY,
      requestTimeoutMs: 2 ** 40,
      reconnect: { initialDelayMs: 2 ** 40, maxDelayMs: 2 ** 40 },
    })
    await client.connect()
    await client.publish('a', 1)
    const reconnecting = nextEvent(client, 'reconnecting')
    server.dropAll()
    expect((await reconnecting).delayMs).toBeLessThanOrEqual(2 ** 31 - 1)

    const delays = setTimer.mock.calls.map(([, delay]) => delay ?? 0)
    expect(delays.filter((delay) => !(delay <= 2 ** 31 - 1))).toEqual([])
  })
})
