import { describe, expect, it } from 'vitest'
import { ParleyError } from './errors.js'
import { generateIdentity } from './identity.js'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'

const fixtures = useFixtures()

const device = { name: 'kitchen tablet', platform: 'android' }

/** Lets wall-clock time pass: the behaviour under test is that nothing happens meanwhile. */
function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

describe('PushClient device pairing', () => {
  it('sends pairing without auth, emits pairing_pending and keeps connect() waiting for the operator', async () => {
    const server = await fixtures.server({ requireToken: 'admin-token' })
    const client = fixtures.client(server.url, { pairing: { device } })
    const pending = nextEvent(client, 'pairing_pending')
    let settled = false
    const connected = client.connect().finally(() => {
      settled = true
    })

    const request = await server.nextDeviceRequest()
    const info = await pending

    expect(request.connection.hello?.pairing).toEqual({ device })
    expect(request.connection.hello?.auth).toBeUndefined()
    expect(info).toEqual({ requestId: request.requestId, expiresAt: expect.any(Number) })
    expect(info.expiresAt).toBeGreaterThan(Date.now())
    expect(client.state).toBe('connecting')
    expect(settled).toBe(false)
    server.approveDevice(request.requestId, 'device-token-1')
    await connected
  })

  it('waits beyond connectTimeoutMs while the request is pending, on the same socket', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, {
      pairing: { device },
      connectTimeoutMs: 50,
      reconnect: { initialDelayMs: 1 },
    })
    const reconnecting = record(client, 'reconnecting')
    const errors = record(client, 'error')
    let sockets = 0
    server.on('connection', () => {
      sockets += 1
    })
    const connected = client.connect()
    const request = await server.nextDeviceRequest()

    await elapse(250)

    expect(client.state).toBe('connecting')
    expect(reconnecting).toEqual([])
    expect(errors).toEqual([])
    expect(sockets).toBe(1)
    expect(server.connections.has(request.connection)).toBe(true)
    server.approveDevice(request.requestId, 'device-token-1')
    expect(await connected).toMatchObject({ clientId: expect.any(String) })
  })

  it('on approval emits device_token, is welcomed, and reconnects with auth.token instead of pairing', async () => {
    const server = await fixtures.server({ requireToken: 'admin-token' })
    const client = fixtures.client(server.url, { pairing: { device }, reconnect: { initialDelayMs: 5 } })
    const tokens = record(client, 'device_token')
    const connected = client.connect()
    const request = await server.nextDeviceRequest()

    server.approveDevice(request.requestId, 'device-token-1')
    const welcome = await connected

    expect(tokens).toEqual([
      { token: 'device-token-1', deviceId: `device-${request.requestId}`, requestId: request.requestId },
    ])
    expect(welcome.clientId).toBe(client.clientId)
    expect(client.state).toBe('connected')

    const again = server.nextWelcomed()
    server.dropAll()
    const connection = await again

    expect(connection.hello?.auth).toEqual({ token: 'device-token-1' })
    expect(connection.hello?.pairing).toBeUndefined()
    expect(tokens).toHaveLength(1)
  })

  it('times out an approved device whose welcome does not come within connectTimeoutMs', async () => {
    const server = await fixtures.server({ welcome: false })
    const client = fixtures.client(server.url, {
      pairing: { device },
      connectTimeoutMs: 100,
      reconnect: false,
    })
    const tokens = record(client, 'device_token')
    const connected = client.connect().catch((caught: unknown) => caught)
    const request = await server.nextDeviceRequest()
    await nextEvent(client, 'pairing_pending')

    server.approveDevice(request.requestId, 'device-token-2')

    expect(await connected).toMatchObject({ code: 'unavailable', message: expect.stringContaining('4002') })
    expect(tokens).toHaveLength(1)
  })

  it('rejects connect() with pairing_denied when the operator denies, closes and does not reconnect', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { pairing: { device }, reconnect: { initialDelayMs: 1 } })
    const reconnecting = record(client, 'reconnecting')
    const tokens = record(client, 'device_token')
    let sockets = 0
    server.on('connection', () => {
      sockets += 1
    })
    const connected = client.connect().catch((caught: unknown) => caught)
    const request = await server.nextDeviceRequest()

    server.denyDevice(request.requestId)
    const error = await connected

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'pairing_denied', retryable: false })
    await client.waitClosed()
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
    expect(tokens).toEqual([])
    expect(sockets).toBe(1)
  })

  it('rejects connect() with pairing_expired when the request expires, closes and does not reconnect', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { pairing: { device }, reconnect: { initialDelayMs: 1 } })
    const reconnecting = record(client, 'reconnecting')
    let sockets = 0
    server.on('connection', () => {
      sockets += 1
    })
    const connected = client.connect().catch((caught: unknown) => caught)
    const request = await server.nextDeviceRequest()

    server.expireDevice(request.requestId)
    const error = await connected

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'pairing_expired', retryable: false })
    await client.waitClosed()
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
    expect(sockets).toBe(1)
  })

  it('stops with pairing_denied on close 4009 even without the error frame', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, { pairing: { device }, reconnect: { initialDelayMs: 1 } })
    const reconnecting = record(client, 'reconnecting')
    const connected = client.connect().catch((caught: unknown) => caught)
    const request = await server.nextDeviceRequest()

    request.connection.close(4009, 'pairing_denied')

    expect(await connected).toMatchObject({ code: 'pairing_denied', retryable: false })
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
  })

  it('gives up with pairing_expired after pairingTimeoutMs when the gateway never decides', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url, {
      pairing: { device },
      pairingTimeoutMs: 100,
      reconnect: { initialDelayMs: 1 },
    })
    const reconnecting = record(client, 'reconnecting')
    const closed = server.nextClosed()
    const connected = client.connect().catch((caught: unknown) => caught)
    await server.nextDeviceRequest()

    const error = await connected

    expect(error).toMatchObject({ code: 'pairing_expired', message: expect.stringContaining('100 ms') })
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
    expect((await closed).code).toBe(1000)
  })

  it('sends no pairing when it has credentials', async () => {
    const server = await fixtures.server({ requireToken: 'secret' })
    const client = fixtures.client(server.url, { authToken: 'secret', pairing: { device } })

    await client.connect()

    const hello = server.welcomed()[0]?.hello
    expect(hello?.auth).toEqual({ token: 'secret' })
    expect(hello?.pairing).toBeUndefined()
  })

  it('ignores pairing frames it did not ask for', async () => {
    // The first connection gets pairing frames before any welcome, then drops; the second is welcomed.
    const server = await fixtures.server({ requireToken: 'secret', welcome: false })
    const client = fixtures.client(server.url, { authToken: 'secret', reconnect: { initialDelayMs: 1 } })
    const pending = record(client, 'pairing_pending')
    const tokens = record(client, 'device_token')
    server.once('frame', (connection) => {
      connection.send({ type: 'pairing_pending', requestId: 'dev_x', expiresAt: Date.now() + 1_000 })
      connection.send({ type: 'pairing_approved', requestId: 'dev_x', token: 'stolen', deviceId: 'dev_x' })
      server.options.welcome = true
      connection.close(1011, 'restart')
    })

    await client.connect()

    expect(pending).toEqual([])
    expect(tokens).toEqual([])
    expect(server.welcomed()[0]?.hello?.auth).toEqual({ token: 'secret' })
  })
})

describe('PushClient connector pairing', () => {
  it('pairingCheck sends channelType, senderId and displayName and resolves with the result', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    const result = await client.pairingCheck('telegram', '48213377', { displayName: 'Ana' })
    const again = await client.pairingCheck('telegram', '48213377')

    const frames = server.welcomed()[0]?.frames.filter((frame) => frame.type === 'pairing_check')
    expect(frames).toEqual([
      {
        type: 'pairing_check',
        id: expect.any(String),
        channelType: 'telegram',
        senderId: '48213377',
        displayName: 'Ana',
      },
      { type: 'pairing_check', id: expect.any(String), channelType: 'telegram', senderId: '48213377' },
    ])
    expect(result).toEqual({
      status: 'pending',
      policy: 'pair',
      code: expect.any(String),
      requestId: expect.any(String),
      expiresAt: expect.any(Number),
    })
    expect(again).toEqual(result)
  })

  it('pairingCheck rejects invalid arguments with bad_request without sending', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()

    await expect(client.pairingCheck('', 'x')).rejects.toMatchObject({ code: 'bad_request' })
    await expect(client.pairingCheck('telegram', 'x'.repeat(257))).rejects.toMatchObject({
      code: 'bad_request',
    })
    expect(server.welcomed()[0]?.frames.some((frame) => frame.type === 'pairing_check')).toBe(false)
  })

  it('pairingCheck rejects with the gateway error (forbidden for a non-connector)', async () => {
    const server = await fixtures.server({
      onRequest(connection, frame) {
        if (frame.type !== 'pairing_check') return false
        connection.send({
          type: 'error',
          id: frame.id,
          code: 'forbidden',
          message: 'connectors only',
          retryable: false,
        })
        return true
      },
    })
    const client = fixtures.client(server.url)
    await client.connect()

    await expect(client.pairingCheck('telegram', '1')).rejects.toMatchObject({ code: 'forbidden' })
    expect(client.state).toBe('connected')
  })

  it('emits pairing_resolved when the operator decides a sender', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const { requestId } = await client.pairingCheck('telegram', '48213377')
    const resolved = nextEvent(client, 'pairing_resolved')

    server.resolveChatPairing('telegram', '48213377', 'approved')

    expect(await resolved).toEqual({
      requestId,
      channelType: 'telegram',
      senderId: '48213377',
      status: 'approved',
      timestamp: expect.any(Number),
    })
  })
})

describe('PushClient device pairing with an agent identity', () => {
  it('asks with the identity and its public key, answers the challenge after approval, and reconnects with the identity and the token', async () => {
    const identity = await generateIdentity()
    const server = await fixtures.server({ requireToken: 'admin-token' })
    const client = fixtures.client(server.url, {
      identity,
      pairing: { device },
      reconnect: { initialDelayMs: 5 },
    })
    const tokens = record(client, 'device_token')
    const connected = client.connect()
    const request = await server.nextDeviceRequest()

    expect(request.connection.hello?.auth).toEqual({ identity: identity.id })
    expect(request.connection.hello?.pairing).toEqual({ device, publicKey: identity.publicKey })
    expect(request.identity).toEqual({ id: identity.id, publicKey: identity.publicKey })

    server.approveDevice(request.requestId, 'device-token-1')
    await connected

    expect(tokens).toEqual([expect.objectContaining({ token: 'device-token-1' })])
    const first = server.welcomed()[0]
    expect(first).toBe(request.connection)
    expect(first?.frames.filter((frame) => frame.type === 'authenticate')).toEqual([
      expect.objectContaining({ identity: identity.id, nonce: first?.nonces[0] }),
    ])

    const again = server.nextWelcomed()
    server.dropAll()
    const connection = await again

    expect(connection.hello?.auth).toEqual({ identity: identity.id, token: 'device-token-1' })
    expect(connection.hello?.pairing).toBeUndefined()
    expect(connection.frames.some((frame) => frame.type === 'authenticate')).toBe(true)
    expect(tokens).toHaveLength(1)
  })
})
