import { describe, expect, it } from 'vitest'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

describe('PushClient reconnect', () => {
  it('reconnects with full-jitter exponential delays and re-subscribes every channel without user code', async () => {
    const server = await fixtures.server()
    // random() = 0.999 puts each delay at the top of its range, which makes the exponential growth visible.
    const client = fixtures.client(server.url, {
      reconnect: { initialDelayMs: 40, maxDelayMs: 100 },
      random: () => 0.999,
    })
    await client.connect()
    const assignedClientId = client.clientId
    await client.subscribe('a')
    await client.subscribe('b')
    await client.subscribe('c')
    await client.unsubscribe('b')
    const reconnecting = record(client, 'reconnecting')
    const disconnect = nextEvent(client, 'disconnect')

    await server.stop()
    expect(await disconnect).toMatchObject({ willReconnect: true })
    await nextEvent(client, 'reconnecting', (event) => event.attempt === 4)
    expect(reconnecting.slice(0, 4)).toEqual([
      { attempt: 1, delayMs: 39 },
      { attempt: 2, delayMs: 79 },
      { attempt: 3, delayMs: 99 },
      { attempt: 4, delayMs: 99 },
    ])

    const welcomed = server.nextWelcomed()
    const reconnected = nextEvent(client, 'connect')
    await server.restart()
    const connection = await welcomed
    await reconnected

    expect(client.state).toBe('connected')
    expect(connection.hello?.clientId).toBe(assignedClientId)
    expect(client.clientId).toBe(assignedClientId)
    expect([...connection.channels].sort()).toEqual(['a', 'c'])
    const message = nextEvent(client, 'channel_message')
    expect(server.deliver('c', 'after restart')).toBe(1)
    expect(await message).toMatchObject({ channel: 'c', data: 'after restart' })
  })

  it('draws each delay uniformly below min(maxDelayMs, initialDelayMs * 2^(attempt-1))', async () => {
    const server = await fixtures.server()
    const options = { initialDelayMs: 30, maxDelayMs: 70 }
    const client = fixtures.client(server.url, { reconnect: options })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')

    await server.stop()
    await nextEvent(client, 'reconnecting', (event) => event.attempt === 6)

    for (const { attempt, delayMs } of reconnecting) {
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1))
      expect(delayMs).toBeGreaterThanOrEqual(0)
      expect(delayMs).toBeLessThan(ceiling)
    }
  })

  it('starts the backoff over after a reconnect that stayed up for resetAfterMs', async () => {
    const server = await fixtures.server()
    // resetAfterMs 0: every ready connection counts as stable, so the drop right below starts over.
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20, resetAfterMs: 0 } })
    await client.connect()

    await server.stop()
    await nextEvent(client, 'reconnecting', (event) => event.attempt === 3)
    const reconnected = nextEvent(client, 'connect')
    await server.restart()
    await reconnected

    const next = nextEvent(client, 'reconnecting')
    server.dropAll()
    expect((await next).attempt).toBe(1)
  })

  it('goes connecting → connected → connecting → connected → closed across a drop and a close', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    const states = record(client, 'state')
    await client.connect()

    const reconnected = nextEvent(client, 'connect')
    server.dropAll()
    await reconnected
    await client.close()

    expect(states.map((change) => change.to)).toEqual([
      'connecting',
      'connected',
      'connecting',
      'connected',
      'closed',
    ])
    expect(states[0]?.from).toBe('disconnected')
  })

  it('keeps retrying a first connect() until the gateway comes up', async () => {
    const server = await fixtures.server()
    await server.stop()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 50 } })

    const connecting = client.connect()
    await nextEvent(client, 'reconnecting', (event) => event.attempt === 2)
    await server.restart()

    expect((await connecting).sessionId).toEqual(expect.any(String))
    expect(client.state).toBe('connected')
  })

  it('drops a silent connection after 2.5 heartbeat intervals and reconnects', async () => {
    // 40 ms heartbeats: with no pings at all the client must give up after 100 ms.
    const server = await fixtures.server({ heartbeatIntervalMs: 40 })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    // The silence counts from the welcome, which comes after this: a lower bound from here holds however late
    // a loaded machine lets the test read the clock after connect().
    const started = Date.now()
    await client.connect()
    const firstSession = client.sessionId

    const disconnect = nextEvent(client, 'disconnect')
    const reconnected = nextEvent(client, 'connect')
    expect(await disconnect).toMatchObject({ code: 4004, willReconnect: true })
    // 100 ms, less the odd millisecond between the timers' clock and Date.now().
    expect(Date.now() - started).toBeGreaterThanOrEqual(98)
    await reconnected
    expect(client.sessionId).not.toBe(firstSession)
  })

  it('keeps a connection that keeps receiving pings', async () => {
    // 400 ms heartbeats, a 1 s liveness limit: longer than a loaded machine stalls between two pings.
    const server = await fixtures.server({ heartbeatIntervalMs: 400 })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()
    const disconnects = record(client, 'disconnect')
    const connection = server.welcomed()[0]

    // Eighty pongs at 30 ms intervals span more than twice the 1 s liveness limit.
    const timer = setInterval(() => connection?.send({ type: 'ping', ts: Date.now() }), 30)
    try {
      for (let i = 0; i < 80; i++) await server.nextFrame((frame) => frame.type === 'pong')
    } finally {
      clearInterval(timer)
    }
    expect(disconnects).toEqual([])
    expect(client.state).toBe('connected')
  })

  it('waits at least reconnectAfterMs, with jitter, after a shutdown frame', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()

    const reconnecting = nextEvent(client, 'reconnecting')
    const disconnect = nextEvent(client, 'disconnect')
    const connection = server.welcomed()[0]
    connection?.send({ type: 'shutdown', reason: 'restarting', reconnectAfterMs: 60 })
    connection?.close(1001, 'going away')

    expect(await disconnect).toEqual({ code: 1001, reason: 'going away', willReconnect: true })
    const { delayMs } = await reconnecting
    expect(delayMs).toBeGreaterThanOrEqual(60)
    expect(delayMs).toBeLessThan(120)
    await nextEvent(client, 'connect')
  })

  it('waits the retryAfterMs of a server_full refusal before trying again', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 }, random: () => 0 })
    await client.connect()

    const reconnecting = nextEvent(client, 'reconnecting')
    const connection = server.welcomed()[0]
    connection?.send({
      type: 'error',
      code: 'server_full',
      message: 'full',
      retryable: true,
      retryAfterMs: 150,
    })
    connection?.close(4005, 'server full')

    expect((await reconnecting).delayMs).toBe(150)
    await nextEvent(client, 'connect')
  })

  it('reports a channel the gateway refuses on re-subscribe and stops re-subscribing it', async () => {
    let refuse = false
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (!refuse || frame.type !== 'subscribe' || frame.channel !== 'revoked') return false
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'forbidden',
          message: 'no longer',
          retryable: false,
        })
        return true
      },
    })
    const client = fixtures.client(server.url, { reconnect: { initialDelayMs: 10 } })
    await client.connect()
    await client.subscribe('kept')
    await client.subscribe('revoked')

    refuse = true
    const error = nextEvent(client, 'error')
    const reconnected = nextEvent(client, 'connect')
    server.dropAll()

    expect(await error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('"revoked"') })
    await reconnected
    expect(client.subscriptions).toEqual(['kept'])
  })

  describe('keeps backing off against a gateway that never holds a connection', () => {
    // random() = 0.999 puts each delay at the top of its range: growing delays show the backoff is applied.
    const options = { reconnect: { initialDelayMs: 8, maxDelayMs: 1_000 }, random: () => 0.999 }
    const growing = [7, 15, 31, 63]

    it('when it welcomes and then closes right away', async () => {
      const server = await fixtures.server()
      const client = fixtures.client(server.url, options)
      await client.connect()
      const reconnecting = record(client, 'reconnecting')
      server.on('welcomed', (connection) => connection.close(1011, 'crashed'))

      server.dropAll()
      await nextEvent(client, 'reconnecting', (event) => event.attempt === 4)

      expect(reconnecting.map((event) => event.delayMs)).toEqual(growing)
    })

    it('when it accepts the socket and closes it before the handshake', async () => {
      const server = await fixtures.server()
      server.on('connection', (connection) => connection.socket.terminate())
      const client = fixtures.client(server.url, options)
      const reconnecting = record(client, 'reconnecting')

      void client.connect().catch(() => undefined)
      await nextEvent(client, 'reconnecting', (event) => event.attempt === 4)

      expect(reconnecting.map((event) => event.delayMs)).toEqual(growing)
    })

    it('when it refuses the hello with a retryable error frame', async () => {
      const server = await fixtures.server({ welcome: false })
      server.on('frame', (connection, frame) => {
        if (frame.type !== 'hello') return
        connection.send({ type: 'error', code: 'unavailable', message: 'store down', retryable: true })
        connection.close(1011, 'store down')
      })
      const client = fixtures.client(server.url, options)
      const reconnecting = record(client, 'reconnecting')

      void client.connect().catch(() => undefined)
      await nextEvent(client, 'reconnecting', (event) => event.attempt === 4)

      expect(reconnecting.map((event) => event.delayMs)).toEqual(growing)
    })
  })
})
