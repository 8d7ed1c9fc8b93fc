import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { AgentKeyInfo, AgentKeyList, AuditPage, HttpError, PROTOCOL_VERSION } from '@parley/protocol'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { challengeMessage } from '../src/auth/agent-challenge.js'
import { adminCall } from './support/admin-api.js'
import { type FrameOf, TestClient } from './support/test-client.js'
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

function signed(agent: Agent, nonce: string, timestamp = Date.now(), signer: KeyObject = agent.privateKey) {
  const signature = sign(null, Buffer.from(challengeMessage(nonce, timestamp, agent.did)), signer).toString(
    'base64url',
  )
  return { type: 'authenticate', id: 'a1', identity: agent.did, nonce, timestamp, signature }
}

describe('agent identity (Ed25519 challenge)', () => {
  let server: TestGateway
  const registered = newAgent()

  beforeAll(async () => {
    // Anonymous off and a shared token set: the challenge is the only way these clients get in.
    server = await startTestGateway({
      authToken: 'shared-secret-token',
      allowAnonymous: false,
      authFailureLimit: 1000,
    })
    const answer = await adminCall(server.started.url, 'POST', '/api/admin/agent-keys', {
      id: registered.did,
      publicKey: registered.publicKey,
      name: 'planner',
      role: 'agent',
      scopes: ['publish:plans.*'],
    })
    expect(answer.status).toBe(201)
    expect(AgentKeyInfo.parse(answer.body)).toMatchObject({
      id: registered.did,
      role: 'agent',
      revokedAt: null,
    })
  })
  afterAll(async () => {
    await server.dispose()
  })

  async function challenged(agent: Agent): Promise<{ client: TestClient; challenge: FrameOf<'challenge'> }> {
    const client = await TestClient.open(server.started.wsUrl)
    client.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      auth: { identity: agent.did },
    })
    const challenge = await client.next('challenge')
    return { client, challenge }
  }

  async function refusedWith(client: TestClient, code: string): Promise<void> {
    expect(await client.next('error')).toMatchObject({ id: 'a1', code })
    expect((await client.waitClosed()).code).toBe(4001)
    expect(client.framesOf('welcome')).toEqual([])
  }

  it('sends a fresh 32-byte nonce with the gateway clock and a 60 s skew', async () => {
    const { client, challenge } = await challenged(registered)
    expect(Buffer.from(challenge.nonce, 'base64url')).toHaveLength(32)
    expect(challenge.maxSkewMs).toBe(60_000)
    expect(Math.abs(challenge.timestamp - Date.now())).toBeLessThan(10_000)
    expect(challenge.id).toBe('h1')
    client.close()
  })

  it('connects with a correct signature: the principal is the did with the key’s role and scopes', async () => {
    const { client, challenge } = await challenged(registered)
    client.send(signed(registered, challenge.nonce))
    const welcome = await client.next('welcome')
    expect(welcome).toMatchObject({
      id: 'h1',
      principal: { id: registered.did, role: 'agent', scopes: ['publish:plans.*'] },
    })
    expect(await client.ok({ type: 'publish', channel: 'plans.today', data: 1 })).toMatchObject({
      channel: 'plans.today',
    })
    expect(await client.request({ type: 'publish', channel: 'other', data: 1 })).toMatchObject({
      code: 'forbidden',
    })
    client.close()
  })

  it('refuses a signature made with another key: invalid_signature', async () => {
    const { client, challenge } = await challenged(registered)
    client.send(signed(registered, challenge.nonce, Date.now(), newAgent().privateKey))
    await refusedWith(client, 'invalid_signature')
  })

  it('refuses an identity that is not registered: unknown_identity', async () => {
    const stranger = newAgent()
    const { client, challenge } = await challenged(stranger)
    client.send(signed(stranger, challenge.nonce))
    await refusedWith(client, 'unknown_identity')
  })

  it('refuses a timestamp outside the allowed skew: stale_timestamp', async () => {
    const { client, challenge } = await challenged(registered)
    client.send(signed(registered, challenge.nonce, Date.now() - 120_000))
    await refusedWith(client, 'stale_timestamp')
  })

  it('refuses a nonce replayed on another connection: nonce_reused', async () => {
    const first = await challenged(registered)
    const answer = signed(registered, first.challenge.nonce)
    first.client.send(answer)
    await first.client.next('welcome')
    const second = await challenged(registered)
    second.client.send(answer)
    await refusedWith(second.client, 'nonce_reused')
    first.client.close()
  })

  it('refuses a second answer on the same connection: nonce_reused', async () => {
    const { client, challenge } = await challenged(registered)
    const answer = signed(registered, challenge.nonce)
    client.send(answer)
    await client.next('welcome')
    client.send({ ...answer, id: 'a2' })
    expect(await client.waitFor((frame) => frame.type === 'error' && frame.id === 'a2')).toMatchObject({
      code: 'nonce_reused',
    })
    client.close()
  })

  it('refuses authenticate before any challenge was issued to the connection', async () => {
    const client = await TestClient.open(server.started.wsUrl)
    const { challenge } = await challenged(registered)
    client.send(signed(registered, challenge.nonce))
    expect(await client.next('error')).toMatchObject({ code: 'handshake_required' })
    client.close()
  })

  it('records refused answers as auth failures in the audit log', async () => {
    const { client, challenge } = await challenged(registered)
    client.send(signed(registered, challenge.nonce, Date.now(), newAgent().privateKey))
    await refusedWith(client, 'invalid_signature')
    await server.audit?.flush()
    const page = AuditPage.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/audit?kind=auth_failure')).body,
    )
    expect(page.events.map((event) => event.detail)).toEqual(
      expect.arrayContaining([expect.stringContaining(`invalid_signature for ${registered.did}`)]),
    )
  })

  it('revoking the agent key closes its connections with 4001 and refuses it afterwards', async () => {
    const agent = newAgent()
    await adminCall(server.started.url, 'POST', '/api/admin/agent-keys', {
      id: agent.did,
      publicKey: agent.publicKey,
      name: 'short-lived',
    })
    const { client, challenge } = await challenged(agent)
    client.send(signed(agent, challenge.nonce))
    await client.next('welcome')
    const revoked = await adminCall(
      server.started.url,
      'DELETE',
      `/api/admin/agent-keys/${encodeURIComponent(agent.did)}`,
    )
    expect(revoked.status).toBe(200)
    expect(AgentKeyInfo.parse(revoked.body).revokedAt).not.toBeNull()
    expect((await client.waitClosed()).code).toBe(4001)
    const list = AgentKeyList.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/agent-keys')).body,
    )
    expect(list.agentKeys.find((key) => key.id === agent.did)?.revokedAt).not.toBeNull()

    const again = await challenged(agent)
    again.client.send(signed(agent, again.challenge.nonce))
    await refusedWith(again.client, 'unknown_identity')
  })

  it('refuses to register a key whose did does not match, and unknown keys answer 404 on revoke', async () => {
    const agent = newAgent()
    const mismatch = await adminCall(server.started.url, 'POST', '/api/admin/agent-keys', {
      id: newAgent().did,
      publicKey: agent.publicKey,
      name: 'liar',
    })
    expect(mismatch.status).toBe(400)
    expect(HttpError.parse(mismatch.body).error.code).toBe('bad_request')
    const missing = await adminCall(
      server.started.url,
      'DELETE',
      `/api/admin/agent-keys/${encodeURIComponent(agent.did)}`,
    )
    expect(missing.status).toBe(404)
  })
})

describe('agent identity and the failed-auth limit', () => {
  it('counts refused answers against the address: after the limit, hello with an identity is rate limited', async () => {
    const server = await startTestGateway({ authToken: 'shared-secret-token', authFailureLimit: 2 })
    try {
      const stranger = newAgent()
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const client = await TestClient.open(server.started.wsUrl)
        client.send({
          type: 'hello',
          id: 'h1',
          protocol: { min: 1, max: 1 },
          auth: { identity: stranger.did },
        })
        const challenge = await client.next('challenge')
        client.send(signed(stranger, challenge.nonce))
        expect(await client.next('error')).toMatchObject({ code: 'unknown_identity' })
      }
      const client = await TestClient.open(server.started.wsUrl)
      client.send({ type: 'hello', id: 'h1', protocol: { min: 1, max: 1 }, auth: { identity: stranger.did } })
      expect(await client.next('error')).toMatchObject({ id: 'h1', code: 'rate_limited' })
      expect(client.framesOf('challenge')).toEqual([])
    } finally {
      await server.dispose()
    }
  })
})
