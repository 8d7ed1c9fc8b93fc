import { type AuditKind, ConnectionList } from '@parley/protocol'
import {
  createMemorySessionBindingStore,
  createMemoryTokenStore,
  type SessionBindingStore,
  type TokenStore,
} from '@parley/stores'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuthRequest } from '../src/index.js'
import { admin } from './support/delivery-helpers.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

let server: TestGateway | undefined
const clients: TestClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await server?.dispose()
  server = undefined
})

async function start(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
  server = await startTestGateway(...args)
  return server
}

async function open(options: Parameters<typeof TestClient.open>[1] = {}): Promise<TestClient> {
  const client = await TestClient.open(server?.started.wsUrl ?? '', options)
  clients.push(client)
  return client
}

async function connect(hello: { clientId?: string; token?: string } = {}): Promise<TestClient> {
  const client = await TestClient.connect(server?.started.wsUrl ?? '', hello)
  clients.push(client)
  return client
}

/** Read from the memory audit log directly: the admin API may be rate limited for this address. */
async function auditRows(kind?: AuditKind) {
  const page = await server?.audit?.query({ limit: 200, ...(kind === undefined ? {} : { kind }) })
  return page?.events ?? []
}

async function createToken(tokens: TokenStore, role: 'client' | 'agent' | 'admin', scopes: string[]) {
  return tokens.create({ name: `${role} test token`, role, scopes }, Date.now())
}

describe('pluggable auth', () => {
  it('uses an injected plain-object AuthProvider and welcomes with the principal it returned', async () => {
    const seen: AuthRequest[] = []
    const bound: Parameters<SessionBindingStore['bind']>[] = []
    const sessions = createMemorySessionBindingStore()
    await start(
      {},
      {
        auth: {
          async check(request) {
            seen.push(request)
            return request.token === 'let-me-in'
              ? { success: true, userId: 'carol', role: 'agent', scopes: ['subscribe:*'] }
              : { success: false, metadata: { reason: 'custom says no' } }
          },
        },
        sessionBinding: {
          async bind(sessionId, principal) {
            bound.push([sessionId, principal])
            await sessions.bind(sessionId, principal)
          },
          lookup: (sessionId) => sessions.lookup(sessionId),
        },
      },
    )
    const client = await open({ headers: { 'user-agent': 'x' } })
    const welcome = await client.hello({ clientId: 'carol-1', token: 'let-me-in' })
    expect(welcome).toMatchObject({
      type: 'welcome',
      principal: { id: 'carol', role: 'agent', scopes: ['subscribe:*'] },
    })
    expect(seen[0]).toEqual({
      token: 'let-me-in',
      remoteAddress: expect.any(String),
      origin: null,
      clientId: 'carol-1',
      transport: 'websocket',
    })
    if (welcome.type !== 'welcome') throw new Error('not welcomed')
    expect(bound).toEqual([
      [welcome.sessionId, expect.objectContaining({ principal: 'carol', role: 'agent' })],
    ])
    expect(await sessions.lookup(welcome.sessionId)).toMatchObject({ principal: 'carol', role: 'agent' })

    const refused = await open()
    expect(await refused.hello({ token: 'nope' })).toMatchObject({ type: 'error', code: 'unauthorized' })
    expect((await refused.waitClosed()).code).toBe(4001)
    expect(await auditRows('auth_failure')).toEqual([
      expect.objectContaining({ outcome: 'denied', detail: expect.stringContaining('custom says no') }),
    ])
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error('provider exploded')
      },
    ],
    ['rejects', () => Promise.reject(new Error('provider rejected'))],
  ])('denies, logs and keeps serving when the provider %s', async (_name, check) => {
    let failing = true
    await start(
      {},
      {
        auth: {
          check: (request) =>
            failing ? check() : Promise.resolve({ success: true, userId: request.token ?? 'anonymous' }),
        },
      },
    )
    const client = await open()
    expect(await client.hello({ token: 'whatever' })).toMatchObject({
      type: 'error',
      code: 'unavailable',
      retryable: true,
    })
    expect((await client.waitClosed()).code).toBe(1011)
    expect(await auditRows('auth_failure')).toEqual([
      expect.objectContaining({ detail: expect.stringContaining('auth provider failed') }),
    ])
    failing = false
    const next = await connect({ token: 'dave' })
    expect(next.frames[0]).toMatchObject({ type: 'welcome', principal: { id: 'dave', role: 'client' } })
  })

  it('denies when the token store throws during verification', async () => {
    const tokens = createMemoryTokenStore()
    const created = await createToken(tokens, 'client', ['*:*'])
    await start(
      { authToken: 'shared-secret-token' },
      {
        tokenStore: {
          ...tokens,
          verify: () => Promise.reject(new Error('database is down')),
        },
      },
    )
    const client = await open()
    expect(await client.hello({ token: created.token })).toMatchObject({ type: 'error', code: 'unavailable' })
    expect((await client.waitClosed()).code).toBe(1011)
    // The shared token needs no store and still works.
    await connect({ token: 'shared-secret-token' })
  })

  it('denies when the session binding store throws at welcome', async () => {
    await start(
      {},
      { sessionBinding: { bind: () => Promise.reject(new Error('down')), lookup: async () => undefined } },
    )
    const client = await open()
    expect(await client.hello()).toMatchObject({ type: 'error', code: 'unavailable' })
    expect((await client.waitClosed()).code).toBe(1011)
  })
})

describe('default auth chain', () => {
  it('welcomes a client without a token as anonymous while no shared token is set', async () => {
    await start()
    const client = await connect()
    expect(client.frames[0]).toMatchObject({
      type: 'welcome',
      principal: { id: 'anonymous', role: 'client', scopes: ['*:*'] },
    })
  })

  it('refuses a client without a token when allowAnonymous is false', async () => {
    await start({ allowAnonymous: false })
    const client = await open()
    expect(await client.hello()).toMatchObject({ type: 'error', code: 'unauthorized' })
    expect((await client.waitClosed()).code).toBe(4001)
  })

  it('takes the shared token as principal shared with every scope', async () => {
    await start({ authToken: 'shared-secret-token' })
    const client = await connect({ token: 'shared-secret-token' })
    expect(client.frames[0]).toMatchObject({
      principal: { id: 'shared', role: 'client', scopes: ['*:*'] },
    })
  })

  it('takes an API token as its record: principal in welcome, in the admin connection list and in audit rows', async () => {
    const running = await start({ authToken: 'shared-secret-token' })
    const created = await createToken(running.tokens, 'agent', ['publish:alerts.*', 'subscribe:*'])
    const client = await connect({ clientId: 'agent-7', token: created.token })
    expect(client.frames[0]).toMatchObject({
      principal: { id: created.record.id, role: 'agent', scopes: ['publish:alerts.*', 'subscribe:*'] },
    })
    await client.ok({ type: 'publish', channel: 'alerts.disk', data: 1 })
    const { body } = await admin(running, '/api/admin/connections')
    expect(ConnectionList.parse(body).connections).toEqual([
      expect.objectContaining({ clientId: 'agent-7', principal: created.record.id }),
    ])
    const publishRows = await auditRows('publish')
    expect(publishRows[0]).toMatchObject({ principal: created.record.id, channel: 'alerts.disk' })
  })

  it('refuses an unknown, revoked or expired API token and never audits the secret', async () => {
    const running = await start()
    const revoked = await createToken(running.tokens, 'client', ['*:*'])
    await running.tokens.revoke(revoked.record.id, Date.now())
    const expired = await running.tokens.create(
      { name: 'old', role: 'client', scopes: ['*:*'], expiresAt: Date.now() - 1 },
      Date.now() - 10_000,
    )
    for (const token of [revoked.token, expired.token, `${revoked.token.slice(0, -4)}AAAA`]) {
      const client = await open()
      expect(await client.hello({ token })).toMatchObject({ type: 'error', code: 'unauthorized' })
      expect((await client.waitClosed()).code).toBe(4001)
    }
    const rows = JSON.stringify(await auditRows('auth_failure'))
    expect(rows).not.toContain(revoked.token)
    expect(rows).not.toContain(expired.token)
  })
})

describe('scopes', () => {
  async function scoped(scopes: string[]) {
    const running = await start({ authToken: 'shared-secret-token' })
    const created = await createToken(running.tokens, 'client', scopes)
    return connect({ clientId: 'scoped', token: created.token })
  }

  it('refuses a publish without publish:<channel> with forbidden naming the scope, audits it denied, and keeps the connection usable', async () => {
    const client = await scoped(['publish:alerts.*'])
    const refused = await client.request({ type: 'publish', channel: 'x', data: 1 })
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden', retryable: false })
    expect(refused.type === 'error' && refused.message).toContain('publish:x')
    expect(await client.ok({ type: 'publish', channel: 'alerts.cpu', data: 2 })).toMatchObject({
      channel: 'alerts.cpu',
    })
    const rows = await auditRows('publish')
    expect(rows.find((row) => row.outcome === 'denied')).toMatchObject({
      channel: 'x',
      detail: 'missing scope publish:x',
    })
  })

  it('refuses subscribe and durable subscribe without subscribe:<channel>', async () => {
    const client = await scoped(['subscribe:public.*'])
    for (const frame of [
      { type: 'subscribe', channel: 'private' },
      { type: 'subscribe', channel: 'private', durable: true },
    ]) {
      const refused = await client.request(frame)
      expect(refused).toMatchObject({ type: 'error', code: 'forbidden' })
      expect(refused.type === 'error' && refused.message).toContain('subscribe:private')
    }
    await client.subscribe('public.news')
    expect((await auditRows('subscribe')).filter((row) => row.outcome === 'denied')).toHaveLength(2)
  })

  it('refuses a direct message without send:<recipient>', async () => {
    const client = await scoped(['send:agent-*'])
    const refused = await client.request({ type: 'send', to: 'human-1', data: 'hi' })
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(refused.type === 'error' && refused.message).toContain('send:human-1')
    expect(await client.ok({ type: 'send', to: 'agent-2', data: 'hi' })).toMatchObject({ to: 'agent-2' })
    expect((await auditRows('send')).find((row) => row.outcome === 'denied')).toMatchObject({
      target: 'human-1',
    })
  })

  it('refuses a broadcast without publish:*', async () => {
    const client = await scoped(['publish:alerts.*'])
    const refused = await client.request({ type: 'broadcast', data: 1 })
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(refused.type === 'error' && refused.message).toContain('publish:*')
  })

  it('allows a broadcast with publish:*', async () => {
    const client = await scoped(['publish:*'])
    expect(await client.ok({ type: 'broadcast', data: 1 })).toMatchObject({ delivered: 1 })
  })
})

describe('revocation and expiry on open connections', () => {
  it('closes every connection of a revoked token with unauthorized and 4001, and no other', async () => {
    const running = await start({ authToken: 'shared-secret-token' })
    const doomed = await createToken(running.tokens, 'client', ['*:*'])
    const kept = await createToken(running.tokens, 'client', ['*:*'])
    const first = await connect({ clientId: 'one', token: doomed.token })
    const second = await connect({ clientId: 'two', token: doomed.token })
    const other = await connect({ clientId: 'three', token: kept.token })

    const revoked = await admin(running, `/api/admin/tokens/${doomed.record.id}`, { method: 'DELETE' })
    expect(revoked.status).toBe(200)
    for (const client of [first, second]) {
      expect(await client.next('error')).toMatchObject({ code: 'unauthorized', message: 'token revoked' })
      expect((await client.waitClosed()).code).toBe(4001)
    }
    expect(await other.ok({ type: 'publish', channel: 'still-here', data: 1 })).toMatchObject({
      channel: 'still-here',
    })
    const again = await open()
    expect(await again.hello({ token: doomed.token })).toMatchObject({ code: 'unauthorized' })
  })

  it('closes a connection when its token expires', async () => {
    const running = await start({ authToken: 'shared-secret-token' })
    // Long enough for a loaded machine to finish the handshake first (a token expired by then is refused at hello).
    const shortLived = await running.tokens.create(
      { name: 'short', role: 'client', scopes: ['*:*'], expiresAt: Date.now() + 2_000 },
      Date.now(),
    )
    const client = await connect({ token: shortLived.token })
    expect(await client.next('error', 15_000)).toMatchObject({
      code: 'unauthorized',
      message: 'credentials expired',
    })
    expect((await client.waitClosed()).code).toBe(4001)
  })
})

describe('failed-auth rate limit', () => {
  it('refuses an address after the limit with rate_limited and retryAfterMs, even with a right token, auditing only the first refusal', async () => {
    const running = await start({
      authToken: 'shared-secret-token',
      authFailureLimit: 3,
      authFailureWindow: 60,
    })
    for (let i = 0; i < 3; i++) {
      const client = await open()
      expect(await client.hello({ token: `guess-${i}` })).toMatchObject({ code: 'unauthorized' })
    }
    for (let i = 0; i < 5; i++) {
      const client = await open()
      const refused = await client.hello({ token: 'shared-secret-token' })
      expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', retryable: true })
      expect(refused.type === 'error' && refused.retryAfterMs).toBeGreaterThan(50_000)
      expect((await client.waitClosed()).code).toBe(4001)
    }
    const failures = await auditRows('auth_failure')
    expect(failures).toHaveLength(4)
    expect(failures.filter((row) => row.detail?.includes('too many failed attempts'))).toHaveLength(1)
    expect(running.gateway.stats()).toMatchObject({ authFailures: 3, authRateLimited: 5 })
    const metrics = await (await fetch(`${running.started.url}/metrics`)).text()
    expect(metrics).toMatch(/parley_auth_rate_limited_total 5/)
    expect(metrics).toMatch(/parley_auth_failures_total 3/)

    // The admin API shares the limit: guessing the admin token from the same address is refused too.
    const adminAttempt = await fetch(`${running.started.url}/api/admin/whoami`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    })
    expect(adminAttempt.status).toBe(429)
    expect(adminAttempt.headers.get('retry-after')).toMatch(/^\d+$/)
  })

  it('counts admin API guesses against the address like connection attempts', async () => {
    await start({ authFailureLimit: 2 })
    const url = server?.started.url ?? ''
    for (const token of ['a', 'b']) {
      const response = await fetch(`${url}/api/admin/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(response.status).toBe(401)
    }
    const limited = await fetch(`${url}/api/admin/whoami`, { headers: { authorization: 'Bearer c' } })
    expect(limited.status).toBe(429)
    const client = await open()
    expect(await client.hello()).toMatchObject({ code: 'rate_limited' })
  })
})

describe('bearer JWTs', () => {
  const secret = 'jwt-secret-for-the-gateway-tests-0123'
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('test-idp')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret))

  it('welcomes a connection with a valid JWT as its mapped principal and lets an admin JWT use the admin API', async () => {
    const running = await start({ authToken: 'shared-secret-token', jwt: { secret, issuer: 'test-idp' } })
    const client = await connect({
      token: await sign({ sub: 'erin', role: 'agent', scope: 'subscribe:jobs.*' }),
    })
    expect(client.frames[0]).toMatchObject({
      principal: { id: 'erin', role: 'agent', scopes: ['subscribe:jobs.*'] },
    })
    expect(await client.request({ type: 'publish', channel: 'jobs.1', data: 1 })).toMatchObject({
      code: 'forbidden',
    })
    const adminJwt = await sign({ sub: 'root', role: 'admin' })
    const whoami = await fetch(`${running.started.url}/api/admin/whoami`, {
      headers: { authorization: `Bearer ${adminJwt}` },
    })
    expect(await whoami.json()).toEqual({ role: 'admin', principal: 'root' })
    const clientJwt = await sign({ sub: 'erin' })
    const forbidden = await fetch(`${running.started.url}/api/admin/whoami`, {
      headers: { authorization: `Bearer ${clientJwt}` },
    })
    expect(forbidden.status).toBe(403)
  })

  it('refuses a JWT from another issuer at connect', async () => {
    await start({ jwt: { secret, issuer: 'other-idp' }, allowAnonymous: false })
    const client = await open()
    expect(await client.hello({ token: await sign({ sub: 'erin' }) })).toMatchObject({ code: 'unauthorized' })
    expect((await auditRows('auth_failure'))[0]?.detail).toContain('jwt refused')
  })

  it('denies with unavailable when the JWKS URL cannot be reached', async () => {
    await start({ jwt: { jwksUrl: 'http://127.0.0.1:9/jwks.json' } })
    const token = [
      Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url'),
      Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url'),
      'c2ln',
    ].join('.')
    const client = await open()
    expect(await client.hello({ token })).toMatchObject({ code: 'unavailable' })
  })
})
