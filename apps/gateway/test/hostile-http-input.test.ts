import { generateKeyPairSync } from 'node:crypto'
import { HttpError, MAX_TOKEN_LIFETIME_S } from '@parley/protocol'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { startDatabaseGateway } from './support/database-gateway.js'
import type { TestGateway } from './support/test-gateway.js'

/** A real Ed25519 key, so an agent key registration gets past the key checks to the name. */
const AGENT_KEY = (() => {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  return { id: didKeyFromPublicKey(raw), publicKey: Buffer.from(raw).toString('base64url') }
})()

/**
 * Input the HTTP fuzz suite (test/fuzz/http-bodies.fuzz.test.ts) found answered with 500 by the Postgres
 * stores, pinned down: each is refused with 400 `bad_request` before a store sees it.
 */
describe('hostile HTTP input against the Postgres stores', () => {
  let server: TestGateway

  beforeAll(async () => {
    server = await startDatabaseGateway()
  })
  afterAll(async () => {
    await server?.dispose()
  })

  const expectBadRequest = (answer: { status: number; body: unknown }, mentions: string) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(400)
    const { error } = HttpError.parse(answer.body)
    expect(error.code).toBe('bad_request')
    expect(error.message).toContain(mentions)
  }

  it.each([
    ['DELETE', '/api/admin/tokens/%00'],
    ['DELETE', '/api/admin/policies/%00'],
    ['DELETE', '/api/admin/mcp/servers/%00'],
    ['POST', '/api/admin/pairing/requests/%00/approve'],
    ['POST', '/api/admin/pairing/requests/%00/deny'],
    ['DELETE', '/api/admin/pairing/paired/telegram/%00'],
    ['POST', '/api/admin/devices/%00/deny'],
    ['GET', '/api/admin/audit?principal=%00'],
    ['GET', '/api/admin/conversations?a=%00&b=x'],
  ])('refuses %s %s (a NUL character in the URL) with 400 bad_request', async (method, path) => {
    expectBadRequest(await adminCall(server.started.url, method, path), 'NUL')
  })

  it.each([
    ['/api/admin/tokens', { name: 'a\u0000b', role: 'client' }, 'name'],
    ['/api/admin/pairing/approve', { channelType: 'tele\u0000gram', code: 'ABCD-1234' }, 'channelType'],
    ['/api/admin/agent-keys', { id: AGENT_KEY.id, publicKey: AGENT_KEY.publicKey, name: 'a\u0000' }, 'name'],
  ])(
    'refuses POST %s with a NUL character in a body string with 400 naming the field',
    async (path, body, field) => {
      expectBadRequest(
        await adminCall(server.started.url, 'POST', path, body),
        `${field}: must not contain NUL`,
      )
    },
  )

  it('refuses a token lifetime past 100 years with 400 naming expiresIn, and takes exactly 100 years', async () => {
    const tooLong = await adminCall(server.started.url, 'POST', '/api/admin/tokens', {
      name: 'forever',
      role: 'client',
      expiresIn: Number.MAX_SAFE_INTEGER,
    })
    expectBadRequest(tooLong, 'expiresIn')
    const longest = await adminCall(server.started.url, 'POST', '/api/admin/tokens', {
      name: 'a century',
      role: 'client',
      expiresIn: MAX_TOKEN_LIFETIME_S,
    })
    expect(longest.status).toBe(201)
  })
})
