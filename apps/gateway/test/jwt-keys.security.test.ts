import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

let server: TestGateway | undefined
let jwks: Server | undefined
const clients: TestClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await server?.dispose()
  server = undefined
  await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()))
  jwks = undefined
})

/** An identity provider's key set on port 0; the test rotates keys by replacing the array's contents. */
async function serveJwks(keys: JWK[]): Promise<string> {
  const started = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys }))
  })
  jwks = started
  await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}/jwks.json`
}

async function signingKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256')
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' }
  const sign = (subject: string) =>
    new SignJWT({ role: 'client' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(subject)
      .setExpirationTime('5m')
      .sign(privateKey)
  return { jwk, sign }
}

async function helloWith(token: string) {
  const client = await TestClient.open(server?.started.wsUrl ?? '')
  clients.push(client)
  return client.hello({ token })
}

describe('JWT key rotation', () => {
  it('welcomes tokens signed with a key the provider just rotated in, and none of them counts as a failed login', async () => {
    const oldKey = await signingKey('2026-11')
    const newKey = await signingKey('2026-12')
    const keys = [oldKey.jwk]
    server = await startTestGateway({
      allowAnonymous: false,
      authFailureLimit: 2,
      jwt: { jwksUrl: await serveJwks(keys), jwksCooldown: 0.05 },
    })
    expect(await helloWith(await oldKey.sign('ann'))).toMatchObject({ type: 'welcome' })

    // The provider rotates; users come back with tokens signed by the new key, more of them than the limit.
    keys.splice(0, keys.length, newKey.jwk)
    for (const user of ['ann', 'bob', 'cy', 'dee']) {
      expect(await helloWith(await newKey.sign(user))).toMatchObject({
        type: 'welcome',
        principal: { id: user },
      })
    }
    expect(server.gateway.stats()).toMatchObject({ authFailures: 0, authRateLimited: 0 })
  })
})

describe('JWT clock tolerance', () => {
  const secret = 'jwt-secret-for-the-gateway-tests-0123'

  it('keeps open a connection whose token expired within the clock tolerance instead of closing it at once', async () => {
    server = await startTestGateway({ allowAnonymous: false, jwt: { secret, clockTolerance: 60 } })
    const expiredTwoSecondsAgo = await new SignJWT({ scope: 'subscribe:* publish:*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 2)
      .sign(new TextEncoder().encode(secret))
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    expect(await client.hello({ token: expiredTwoSecondsAgo })).toMatchObject({ type: 'welcome' })
    // Two round trips after the welcome: the expiry close (due 58 s from now) has not come.
    await client.subscribe('still.here')
    expect(await client.ok({ type: 'publish', channel: 'still.here', data: 1 })).toMatchObject({
      channel: 'still.here',
    })
    expect(client.framesOf('error')).toEqual([])
    expect(client.readyState).toBe(client.socket.OPEN)
  })
})
