import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { DeviceRequestInfo, DeviceRequestList, HttpError, PROTOCOL_VERSION } from '@parley/protocol'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { challengeMessage } from '../src/auth/agent-challenge.js'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

interface Agent {
  did: string
  publicKey: string
  privateKey: KeyObject
}

function newAgent(): Agent {
  const pair = generateKeyPairSync('ed25519')
  const publicKey = String(pair.publicKey.export({ format: 'jwk' }).x)
  return {
    did: didKeyFromPublicKey(Buffer.from(publicKey, 'base64url')),
    publicKey,
    privateKey: pair.privateKey,
  }
}

function authenticateFrame(agent: Agent, nonce: string) {
  const timestamp = Date.now()
  const message = Buffer.from(challengeMessage(nonce, timestamp, agent.did))
  const signature = sign(null, message, agent.privateKey).toString('base64url')
  return { type: 'authenticate', id: 'a1', identity: agent.did, nonce, timestamp, signature }
}

describe('device pairing', () => {
  const servers: TestGateway[] = []
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const server of servers.splice(0)) await server.dispose()
  })

  async function start(config: Record<string, unknown> = {}) {
    // Auth required and anonymous off: pairing is the only way in without a credential.
    const server = await startTestGateway({
      authToken: 'shared-secret-token',
      allowAnonymous: false,
      ...config,
    })
    servers.push(server)
    return server
  }

  async function pairingDevice(server: TestGateway, name = 'kitchen tablet') {
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    client.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      pairing: { device: { name, platform: 'android' } },
    })
    const pending = await client.next('pairing_pending')
    return { client, pending }
  }

  it('a waiting device is approved: it receives its token, then welcome, and can publish; the token works on a new connection', async () => {
    const server = await start()
    const { client, pending } = await pairingDevice(server)
    expect(pending.requestId).toMatch(/^dev_/)
    const list = DeviceRequestList.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/devices')).body,
    )
    expect(list.devices).toEqual([
      expect.objectContaining({
        id: pending.requestId,
        deviceName: 'kitchen tablet',
        platform: 'android',
        status: 'pending',
      }),
    ])
    const approved = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/devices/${pending.requestId}/approve`,
      {
        role: 'client',
        scopes: ['publish:kitchen.*', 'subscribe:*'],
      },
    )
    expect(approved.status).toBe(200)
    const info = DeviceRequestInfo.parse(approved.body)
    expect(info).toMatchObject({ id: pending.requestId, status: 'approved' })
    const token = await client.next('pairing_approved')
    expect(token).toMatchObject({ requestId: pending.requestId, deviceId: pending.requestId })
    expect(token.token).toMatch(/^pk_/)
    const welcome = await client.next('welcome')
    expect(welcome).toMatchObject({ id: 'h1', principal: { id: info.tokenId, role: 'client' } })
    expect(client.frames.indexOf(token)).toBeLessThan(client.frames.indexOf(welcome))
    expect(await client.ok({ type: 'publish', channel: 'kitchen.temp', data: 21 })).toMatchObject({
      channel: 'kitchen.temp',
    })
    expect(await client.request({ type: 'publish', channel: 'garage', data: 1 })).toMatchObject({
      code: 'forbidden',
    })

    const record = await server.tokens.get(info.tokenId ?? '')
    expect(record).toMatchObject({ name: 'kitchen tablet', subject: pending.requestId })
    const again = await TestClient.connect(server.started.wsUrl, { token: token.token })
    clients.push(again)
    expect(again.frames[0]).toMatchObject({ principal: { id: info.tokenId } })
    const after = DeviceRequestList.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/devices')).body,
    )
    expect(after.devices).toEqual([])
  })

  it('a waiting device can only ping: other frames get invalid_state and it is not welcomed', async () => {
    const server = await start()
    const { client } = await pairingDevice(server)
    expect(await client.request({ type: 'publish', channel: 'x', data: 1 })).toMatchObject({
      type: 'error',
      code: 'invalid_state',
    })
    expect(await client.request({ type: 'subscribe', channel: 'x' })).toMatchObject({ code: 'invalid_state' })
    client.send({ type: 'ping', id: 'p1' })
    expect(await client.next('pong')).toMatchObject({ id: 'p1' })
    expect(client.framesOf('welcome')).toEqual([])
    expect(server.gateway.stats().messagesPublished).toBe(0)
  })

  it('waits beyond the handshake timeout: the timeout does not apply to a device waiting for approval', async () => {
    // Bounds a loaded machine keeps: hello within 2 s of the connect, a pong within 2 s of its ping.
    const server = await start({ handshakeTimeout: 2, heartbeatInterval: 1 })
    const { client, pending } = await pairingDevice(server)
    // Answer the heartbeat like a live client; wait for more than a handshake timeout's worth of pings.
    client.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; ts?: number }
      if (frame.type === 'ping') client.send({ type: 'pong', ts: frame.ts })
    })
    await client.waitUntil(() => client.framesOf('ping').length >= 3, 20_000, 'three pings')
    expect(client.readyState).toBe(1) // OPEN
    await adminCall(server.started.url, 'POST', `/api/admin/devices/${pending.requestId}/approve`, {})
    await client.next('welcome')
  })

  it('a denied device gets pairing_denied and close 4009', async () => {
    const server = await start()
    const { client, pending } = await pairingDevice(server)
    const denied = await adminCall(server.started.url, 'POST', `/api/admin/devices/${pending.requestId}/deny`)
    expect(DeviceRequestInfo.parse(denied.body)).toMatchObject({ status: 'denied', tokenId: null })
    expect(await client.next('error')).toMatchObject({ code: 'pairing_denied' })
    expect((await client.waitClosed()).code).toBe(4009)
    const twice = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/devices/${pending.requestId}/approve`,
      {},
    )
    expect(twice.status).toBe(409)
    expect(HttpError.parse(twice.body).error.code).toBe('conflict')
  })

  it('a request not decided in time gets pairing_expired and close 4010', async () => {
    const server = await start({ pairing: { deviceRequestTtl: 0.3 } })
    const { client } = await pairingDevice(server)
    expect(await client.next('error', 5_000)).toMatchObject({ code: 'pairing_expired' })
    expect((await client.waitClosed()).code).toBe(4010)
  })

  it('a device that disconnected can still be approved until its request expires: the token is issued', async () => {
    const server = await start()
    const { client, pending } = await pairingDevice(server)
    client.close()
    await client.waitClosed()
    const approved = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/devices/${pending.requestId}/approve`,
      {},
    )
    expect(DeviceRequestInfo.parse(approved.body).tokenId).toMatch(/^tok_/)
  })

  it('refuses devices beyond the cap of waiting devices with rate_limited', async () => {
    const server = await start({ pairing: { maxWaitingDevices: 1 } })
    await pairingDevice(server)
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    client.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: 1 },
      pairing: { device: { name: 'second' } },
    })
    expect(await client.next('error')).toMatchObject({ id: 'h1', code: 'rate_limited' })
    expect((await client.waitClosed()).code).toBe(4001)
  })

  it('unknown device requests answer 404 on approve and deny', async () => {
    const server = await start()
    for (const action of ['approve', 'deny']) {
      const answer = await adminCall(server.started.url, 'POST', `/api/admin/devices/dev_nope/${action}`, {})
      expect(answer.status).toBe(404)
    }
  })

  describe('with an agent identity', () => {
    function helloWithIdentity(client: TestClient, identity: string, publicKey: string | undefined) {
      client.send({
        type: 'hello',
        id: 'h1',
        protocol: { min: 1, max: PROTOCOL_VERSION },
        auth: { identity },
        pairing: {
          device: { name: 'planner agent' },
          ...(publicKey === undefined ? {} : { publicKey }),
        },
      })
    }

    it('approval registers the key: pairing_approved, then challenge, then welcome as the did; later connections pass the challenge with the identity alone', async () => {
      const server = await start()
      const agent = newAgent()
      const client = await TestClient.open(server.started.wsUrl)
      clients.push(client)
      helloWithIdentity(client, agent.did, agent.publicKey)
      const pending = await client.next('pairing_pending')
      const list = DeviceRequestList.parse(
        (await adminCall(server.started.url, 'GET', '/api/admin/devices')).body,
      )
      expect(list.devices).toEqual([
        expect.objectContaining({ id: pending.requestId, deviceName: 'planner agent', identity: agent.did }),
      ])
      expect(await server.agentKeys.get(agent.did)).toBeUndefined()

      const approved = await adminCall(
        server.started.url,
        'POST',
        `/api/admin/devices/${pending.requestId}/approve`,
        { role: 'agent', scopes: ['publish:plans.*'] },
      )
      expect(DeviceRequestInfo.parse(approved.body)).toMatchObject({
        status: 'approved',
        identity: agent.did,
      })
      expect(await server.agentKeys.get(agent.did)).toMatchObject({
        publicKey: agent.publicKey,
        name: 'planner agent',
        role: 'agent',
        scopes: ['publish:plans.*'],
      })
      const token = await client.next('pairing_approved')
      expect(token.token).toMatch(/^pk_/)
      const challenge = await client.next('challenge')
      expect(client.framesOf('welcome')).toEqual([])
      client.send(authenticateFrame(agent, challenge.nonce))
      const welcome = await client.next('welcome')
      expect(welcome).toMatchObject({
        id: 'h1',
        principal: { id: agent.did, role: 'agent', scopes: ['publish:plans.*'] },
      })
      expect(client.frames.indexOf(token)).toBeLessThan(client.frames.indexOf(challenge))
      expect(await client.ok({ type: 'publish', channel: 'plans.today', data: 1 })).toMatchObject({
        channel: 'plans.today',
      })

      const again = await TestClient.open(server.started.wsUrl)
      clients.push(again)
      again.send({
        type: 'hello',
        id: 'h2',
        protocol: { min: 1, max: PROTOCOL_VERSION },
        auth: { identity: agent.did },
      })
      const second = await again.next('challenge')
      again.send(authenticateFrame(agent, second.nonce))
      expect(await again.next('welcome')).toMatchObject({ principal: { id: agent.did } })
    })

    it('an identity approved after the handshake timeout still gets its challenge answered: the timeout restarts at approval', async () => {
      // Bounds a loaded machine keeps: hello and, after the approval, the answer each within 2 s; a pong
      // within 2 s of its ping.
      const server = await start({ handshakeTimeout: 2, heartbeatInterval: 1 })
      const agent = newAgent()
      const client = await TestClient.open(server.started.wsUrl)
      clients.push(client)
      client.socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; ts?: number }
        if (frame.type === 'ping') client.send({ type: 'pong', ts: frame.ts })
      })
      helloWithIdentity(client, agent.did, agent.publicKey)
      const pending = await client.next('pairing_pending')
      const connectedAt = Date.now()
      await client.waitUntil(() => Date.now() - connectedAt > 2_200, 10_000, 'past the handshake timeout')
      await adminCall(server.started.url, 'POST', `/api/admin/devices/${pending.requestId}/approve`, {})
      const challenge = await client.next('challenge')
      // A slow signer: a timeout counted from the connect would already have closed the connection.
      await new Promise((resolve) => setTimeout(resolve, 300))
      client.send(authenticateFrame(agent, challenge.nonce))
      expect(await client.next('welcome')).toMatchObject({ principal: { id: agent.did } })
    })

    it('refuses with bad_request a did that is not the public key’s, or one without the other, and records no request', async () => {
      const server = await start()
      const agent = newAgent()
      const other = newAgent()
      const cases: Array<[string, string | undefined]> = [
        [agent.did, other.publicKey],
        [agent.did, undefined],
        [agent.did, 'not-a-key'],
      ]
      for (const [identity, publicKey] of cases) {
        const client = await TestClient.open(server.started.wsUrl)
        clients.push(client)
        helloWithIdentity(client, identity, publicKey)
        expect(await client.next('error')).toMatchObject({ id: 'h1', code: 'bad_request' })
        expect(client.framesOf('pairing_pending')).toEqual([])
      }
      const bare = await TestClient.open(server.started.wsUrl)
      clients.push(bare)
      bare.send({
        type: 'hello',
        id: 'h1',
        protocol: { min: 1, max: PROTOCOL_VERSION },
        pairing: { device: { name: 'key without identity' }, publicKey: agent.publicKey },
      })
      expect(await bare.next('error')).toMatchObject({ id: 'h1', code: 'bad_request' })
      const list = DeviceRequestList.parse(
        (await adminCall(server.started.url, 'GET', '/api/admin/devices')).body,
      )
      expect(list.devices).toEqual([])
    })

    it('refuses with conflict to approve the registration of a revoked identity, issuing no token', async () => {
      const server = await start()
      const agent = newAgent()
      await server.agentKeys.register({ id: agent.did, publicKey: agent.publicKey, name: 'old' }, Date.now())
      await server.agentKeys.revoke(agent.did, Date.now())
      const client = await TestClient.open(server.started.wsUrl)
      clients.push(client)
      helloWithIdentity(client, agent.did, agent.publicKey)
      const pending = await client.next('pairing_pending')
      const answer = await adminCall(
        server.started.url,
        'POST',
        `/api/admin/devices/${pending.requestId}/approve`,
        {},
      )
      expect(answer.status).toBe(409)
      expect(HttpError.parse(answer.body).error.code).toBe('conflict')
      expect(client.framesOf('pairing_approved')).toEqual([])
      expect(await server.tokens.list()).toEqual([])
    })
  })
})
