import type { ClientFrame, ErrorCode } from '@parley/protocol'
import { beforeAll, describe, expect, it } from 'vitest'
import { ParleyError } from './errors.js'
import { type AgentIdentity, generateIdentity, verifyChallenge } from './identity.js'
import { useFixtures } from './test-support/fixtures.js'
import { record } from './test-support/next-event.js'

const fixtures = useFixtures()

type AuthenticateFrame = Extract<ClientFrame, { type: 'authenticate' }>

let identity: AgentIdentity
beforeAll(async () => {
  identity = await generateIdentity()
})

function isAuthenticate(frame: ClientFrame): frame is AuthenticateFrame {
  return frame.type === 'authenticate'
}

describe('PushClient agent identity', () => {
  it('sends the did:key in hello.auth.identity, with the token when one is given too', async () => {
    const server = await fixtures.server({ identities: [identity.id], requireToken: 'secret' })
    const client = fixtures.client(server.url, { identity, authToken: 'secret' })

    await client.connect()

    const hello = server.welcomed()[0]?.hello
    expect(hello?.auth).toEqual({ identity: identity.id, token: 'secret' })
    expect(hello?.pairing).toBeUndefined()
  })

  it('answers the challenge with a signature over the nonce the server sent, then is welcomed', async () => {
    const server = await fixtures.server({ identities: [identity.id] })
    const client = fixtures.client(server.url, { identity })
    const before = Date.now()

    const welcome = await client.connect()

    const connection = server.welcomed()[0]
    const frame = connection?.frames.find(isAuthenticate)
    expect(welcome.sessionId).toBeDefined()
    expect(client.state).toBe('connected')
    expect(frame).toMatchObject({ identity: identity.id, nonce: connection?.nonces[0] })
    // The client's own clock, not the server's.
    expect(frame?.timestamp).toBeGreaterThanOrEqual(before)
    expect(frame?.timestamp).toBeLessThanOrEqual(Date.now())
    const signed = {
      id: frame?.identity ?? '',
      nonce: frame?.nonce ?? '',
      timestamp: frame?.timestamp ?? 0,
      signature: frame?.signature ?? '',
    }
    expect(await verifyChallenge(identity.id, signed)).toBe(true)
    const other = await generateIdentity()
    expect(await verifyChallenge(other.id, { ...signed, id: other.id })).toBe(false)
  })

  it('does the challenge again on every reconnect, signing the new nonce', async () => {
    const server = await fixtures.server({ identities: [identity.id] })
    const client = fixtures.client(server.url, { identity, reconnect: { initialDelayMs: 5 } })
    await client.connect()
    const first = server.welcomed()[0]

    const second = server.nextWelcomed()
    server.dropAll()
    const connection = await second

    const answer = connection.frames.find(isAuthenticate)
    expect(connection).not.toBe(first)
    expect(connection.nonces).toHaveLength(1)
    expect(answer?.nonce).toBe(connection.nonces[0])
    expect(answer?.nonce).not.toBe(first?.nonces[0])
    expect(
      await verifyChallenge(identity.id, {
        id: identity.id,
        nonce: answer?.nonce ?? '',
        timestamp: answer?.timestamp ?? 0,
        signature: answer?.signature ?? '',
      }),
    ).toBe(true)
  })

  it('stops for good when the identity is not registered: unknown_identity, no reconnect', async () => {
    const server = await fixtures.server({ identities: [] })
    const client = fixtures.client(server.url, { identity, reconnect: { initialDelayMs: 1 } })
    const reconnecting = record(client, 'reconnecting')

    const error = await client.connect().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'unknown_identity', retryable: false })
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
  })

  it('stops for good with stale_timestamp when its clock is too far from the gateway clock', async () => {
    const server = await fixtures.server({ identities: [identity.id], clockOffsetMs: 120_000 })
    const client = fixtures.client(server.url, { identity, reconnect: { initialDelayMs: 1 } })
    const reconnecting = record(client, 'reconnecting')

    const error = await client.connect().catch((caught: unknown) => caught)

    expect(error).toMatchObject({ code: 'stale_timestamp', retryable: false })
    expect(client.state).toBe('closed')
    expect(reconnecting).toEqual([])
  })

  const refusals: ErrorCode[] = ['invalid_signature', 'unknown_identity', 'nonce_reused', 'stale_timestamp']
  it.each(refusals)(
    'rejects connect() with %s after authenticate, closed with 4001, and does not reconnect',
    async (code) => {
      const server = await fixtures.server({
        identities: [identity.id],
        onRequest(connection, frame) {
          if (frame.type !== 'authenticate') return false
          server.refuse(connection, code, `refused: ${code}`, 4001)
          return true
        },
      })
      const client = fixtures.client(server.url, { identity, reconnect: { initialDelayMs: 1 } })
      const reconnecting = record(client, 'reconnecting')
      const errors = record(client, 'error')
      let sockets = 0
      server.on('connection', () => {
        sockets += 1
      })

      const error = await client.connect().catch((caught: unknown) => caught)

      expect(error).toBeInstanceOf(ParleyError)
      expect(error).toMatchObject({ code, retryable: false, message: `refused: ${code}` })
      expect(errors).toEqual([error])
      await client.waitClosed()
      expect(client.state).toBe('closed')
      expect(reconnecting).toEqual([])
      expect(sockets).toBe(1)
    },
  )

  it('keeps the identity refusal that explains a 4001 close after the welcome', async () => {
    const server = await fixtures.server({ identities: [identity.id] })
    const client = fixtures.client(server.url, { identity, reconnect: { initialDelayMs: 1 } })
    await client.connect()
    const reconnecting = record(client, 'reconnecting')
    const errors = record(client, 'error')
    const connection = server.welcomed()[0]
    if (connection === undefined) throw new Error('no connection')

    // The key is revoked while connected.
    server.refuse(connection, 'unknown_identity', 'the key was revoked', 4001)
    await client.waitClosed()

    expect(errors.map((error) => error.code)).toEqual(['unknown_identity'])
    expect(reconnecting).toEqual([])
    expect(client.state).toBe('closed')
  })
})
