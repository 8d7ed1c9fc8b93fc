import { closeReasonOf, HttpError, PollOpenResponse } from '@parley/protocol'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startDatabaseGateway } from './support/database-gateway.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const MAX_PAYLOAD = 4096

/** Transport-level answers to hostile input that the fuzz suites (test/fuzz) found, pinned down. */
describe('hostile input at the transport level', () => {
  let server: TestGateway

  beforeEach(async () => {
    server = await startTestGateway({ maxPayload: MAX_PAYLOAD })
  })
  afterEach(async () => {
    await server.dispose()
  })

  it('closes a WebSocket text frame that is not UTF-8 with 1007, a code of the close-code table', async () => {
    const client = await TestClient.connect(server.started.wsUrl)
    client.sendRaw(Buffer.from([0x7b, 0x80, 0x7d]), { binary: false })
    const closed = await client.waitClosed()
    expect(closed.code).toBe(1007)
    expect(closeReasonOf(closed.code)).toBe('invalid_payload')
  })

  it('answers an oversized /poll/send with 413, and the next request of the same client is served (no dropped socket reused)', async () => {
    const base = `${server.started.url}/poll`
    const post = (path: string, body: string) =>
      fetch(`${base}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const { session } = PollOpenResponse.parse(await (await post('open', '{}')).json())

    const tooBig = await post('send', JSON.stringify({ session, frames: ['x'.repeat(4 * MAX_PAYLOAD + 1)] }))
    expect(tooBig.status).toBe(413)
    expect(HttpError.parse(await tooBig.json()).error.code).toBe('payload_too_large')

    // The gateway reads and discards the rest of a refused body, so the socket the client keeps stays usable;
    // before, it was dropped after the 413 and this failed with "other side closed".
    const next = await post('send', JSON.stringify({ session, frames: ['{"type":"ping","id":"p"}'] }))
    expect(next.status).toBe(200)
  })
})

/** Found by the frame fuzz suite against the Postgres stores: NUL characters in handshake fields. */
describe('NUL characters in handshake fields, against the Postgres stores', () => {
  let server: TestGateway

  beforeAll(async () => {
    server = await startDatabaseGateway()
  })
  afterAll(async () => {
    await server?.dispose()
  })

  it.each([
    ['resume.sessionId', { resume: { sessionId: 'ses_\u0000' } }],
    ['pairing.device.name', { pairing: { device: { name: 'laptop\u0000' } } }],
    ['pairing.device.platform', { pairing: { device: { name: 'laptop', platform: '\u0000' } } }],
  ])(
    'answers a hello with a NUL in %s with invalid_frame, and the handshake can go on',
    async (field, extra) => {
      const client = await TestClient.open(server.started.wsUrl)
      try {
        client.send({ type: 'hello', id: 'h1', protocol: { min: 1, max: 1 }, ...extra })
        expect(await client.next('error')).toMatchObject({
          id: 'h1',
          code: 'invalid_frame',
          message: expect.stringContaining(field),
        })
        expect(await client.hello()).toMatchObject({ type: 'welcome' })
      } finally {
        client.close()
      }
    },
  )
})
