import { request } from 'node:http'
import { HttpError, PairingCheckResult } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

let server: TestGateway | undefined
const clients: TestClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await server?.dispose()
  server = undefined
})

/** An HTTP request from a chosen loopback source address (all of 127/8 reaches a server on 127.0.0.1). */
function fromAddress(
  localAddress: string,
  url: string,
  method: 'GET' | 'POST',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, localAddress }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

describe('owner approval links under guessing', () => {
  it('answers 429 with Retry-After to an address past its limit of forged links; a valid link still works from another address', async () => {
    server = await startTestGateway({
      authToken: 'shared-secret-token',
      authFailureLimit: 3,
      pairing: { publicUrl: 'https://parley.example.com', policies: { telegram: 'pair' } },
    })
    const created = await server.tokens.create(
      { name: 'bot', role: 'connector', scopes: ['*:*'] },
      Date.now(),
    )
    const connector = await TestClient.connect(server.started.wsUrl, { token: created.token })
    clients.push(connector)
    const pending = PairingCheckResult.parse(
      await connector.ok({ type: 'pairing_check', channelType: 'telegram', senderId: '42' }),
    )
    const link = `${server.started.url}${new URL(pending.approvalUrl ?? '').pathname}`
    const forged = `${link.slice(0, -6)}AAAAAA`

    const guesser = '127.0.0.1'
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await fromAddress(guesser, forged, 'GET')).status).toBe(403)
    }
    const limitedPage = await fromAddress(guesser, forged, 'GET')
    expect(limitedPage.status).toBe(429)
    expect(Number(limitedPage.headers['retry-after'])).toBeGreaterThan(0)
    const limitedPost = await fromAddress(guesser, forged, 'POST')
    expect(limitedPost.status).toBe(429)
    expect(HttpError.parse(JSON.parse(limitedPost.body)).error).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: expect.any(Number),
    })
    // Before any link is checked: the right one too, from that address, until the window ends.
    expect((await fromAddress(guesser, link, 'POST')).status).toBe(429)

    const owner = '127.0.0.2'
    expect((await fromAddress(owner, link, 'GET')).status).toBe(200)
    const approved = await fromAddress(owner, link, 'POST')
    expect(approved.status).toBe(200)
    expect(JSON.parse(approved.body)).toMatchObject({ requestId: pending.requestId, status: 'approved' })
    expect(await server.pairing.isPaired('42', 'telegram')).toBe(true)
  })
})
