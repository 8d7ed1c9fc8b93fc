import { AuditPage, ChannelList, ConnectionList, Health, HttpError, Readiness } from '@parley/protocol'
import { createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

function appOnly() {
  const audit = createMemoryAuditLog()
  const gateway = createGateway({
    config: parseConfig({}),
    audit,
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: 'silent' }),
  })
  return { app: gateway.app, audit }
}

describe('admin API auth', () => {
  it.each([
    ['without a token', undefined],
    ['with a wrong token', 'Bearer wrong-token'],
    ['with a non-Bearer scheme', `Basic ${TEST_ADMIN_TOKEN}`],
  ])('answers 401 with the error envelope %s', async (_name, authorization) => {
    const { app, audit } = appOnly()
    for (const path of [
      '/api/admin/whoami',
      '/api/admin/connections',
      '/api/admin/channels',
      '/api/admin/audit',
      '/api/admin/deliveries',
      '/api/admin/dlq',
      '/api/admin/dlq/dlv_any',
    ]) {
      const response = await app.request(
        path,
        authorization === undefined ? {} : { headers: { authorization } },
      )
      expect(response.status, path).toBe(401)
      const body = HttpError.parse(await response.json())
      expect(body.error).toMatchObject({ code: 'unauthorized', retryable: false })
    }
    const failures = await audit.query({ kind: 'auth_failure', limit: 10 })
    expect(failures.events).toHaveLength(7)
    for (const [path, method] of [
      ['/api/admin/dlq/dlv_any/requeue', 'POST'],
      ['/api/admin/dlq/dlv_any', 'DELETE'],
      ['/api/admin/dlq', 'DELETE'],
    ] as const) {
      const response = await app.request(path, {
        method,
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      })
      expect(response.status, `${method} ${path}`).toBe(401)
    }
  })

  it('answers whoami with the admin role for the right token', async () => {
    const { app } = appOnly()
    const response = await app.request('/api/admin/whoami', { headers: adminHeaders() })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ role: 'admin', principal: 'admin' })
  })

  it('refuses every admin request when no admin token is known yet (fail closed)', async () => {
    const gateway = createGateway({
      config: parseConfig({}),
      audit: createMemoryAuditLog(),
      logger: pino({ level: 'silent' }),
    })
    const response = await gateway.app.request('/api/admin/whoami', { headers: adminHeaders() })
    expect(response.status).toBe(401)
  })
})

describe('admin audit query validation', () => {
  it('answers 400 bad_request naming the field for an invalid query', async () => {
    const { app } = appOnly()
    const response = await app.request('/api/admin/audit?kind=teleport&limit=9000', {
      headers: adminHeaders(),
    })
    expect(response.status).toBe(400)
    const body = HttpError.parse(await response.json())
    expect(body.error.code).toBe('bad_request')
    expect(body.error.message).toContain('kind')
    expect(body.error.message).toContain('limit')
  })

  it('answers 400 for a cursor the store did not produce', async () => {
    const { app } = appOnly()
    const response = await app.request('/api/admin/audit?cursor=not-a-cursor', { headers: adminHeaders() })
    expect(response.status).toBe(400)
    expect(HttpError.parse(await response.json()).error.code).toBe('bad_request')
  })

  it('answers an unknown path with a 404 envelope', async () => {
    const { app } = appOnly()
    const response = await app.request('/nowhere')
    expect(response.status).toBe(404)
    expect(HttpError.parse(await response.json()).error.code).toBe('not_found')
  })
})

describe('admin API on a running gateway', () => {
  let server: TestGateway
  const clients: TestClient[] = []
  beforeEach(async () => {
    server = await startTestGateway()
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.dispose()
  })
  const get = async (path: string) => {
    const response = await fetch(`${server.started.url}${path}`, { headers: adminHeaders() })
    expect(response.status, path).toBe(200)
    return response.json() as Promise<unknown>
  }

  it('lists connections and channels with their counters', async () => {
    const alice = await TestClient.connect(
      server.started.wsUrl,
      { clientId: 'alice' },
      { headers: { 'user-agent': 'test-agent/1' } },
    )
    const bob = await TestClient.connect(server.started.wsUrl, { clientId: 'bob' })
    clients.push(alice, bob)
    await bob.subscribe('room')
    await alice.request({ type: 'publish', channel: 'room', data: 'x' })
    await alice.request({ type: 'publish', channel: 'room', data: 'y' })

    const { connections } = ConnectionList.parse(await get('/api/admin/connections'))
    expect(connections.map((connection) => connection.clientId).sort()).toEqual(['alice', 'bob'])
    expect(connections.find((connection) => connection.clientId === 'bob')).toMatchObject({
      transport: 'websocket',
      subscriptions: ['room'],
      remoteAddress: expect.any(String),
    })
    expect(connections.find((connection) => connection.clientId === 'alice')?.userAgent).toBe('test-agent/1')

    const { channels } = ChannelList.parse(await get('/api/admin/channels'))
    expect(channels).toEqual([
      { name: 'room', subscribers: 1, durableSubscribers: 0, messages: 2, lastMessageAt: expect.any(String) },
    ])
  })

  it('records connect, subscribe, publish and auth rows readable through /api/admin/audit', async () => {
    const client = await TestClient.connect(server.started.wsUrl, { clientId: 'auditor' })
    clients.push(client)
    await client.subscribe('audited')
    await client.request({ type: 'publish', channel: 'audited', data: { n: 1 } })
    await fetch(`${server.started.url}/api/admin/whoami`, { headers: { authorization: 'Bearer nope' } })

    const page = AuditPage.parse(await get('/api/admin/audit?limit=50'))
    const kinds = page.events.map((event) => event.kind)
    expect(kinds).toEqual(expect.arrayContaining(['connect', 'subscribe', 'publish', 'auth_failure']))
    expect(page.events.find((event) => event.kind === 'publish')).toMatchObject({
      clientId: 'auditor',
      channel: 'audited',
      size: expect.any(Number),
      outcome: 'ok',
    })

    const onlyPublish = AuditPage.parse(await get('/api/admin/audit?kind=publish&channel=audited'))
    expect(onlyPublish.events.map((event) => event.kind)).toEqual(['publish'])
  })

  it('serves /health and /ready with the protocol schemas', async () => {
    const health = Health.parse(await (await fetch(`${server.started.url}/health`)).json())
    expect(health).toMatchObject({ status: 'ok', connections: 0, connected_agents: 0 })
    const ready = await fetch(`${server.started.url}/ready`)
    expect(ready.status).toBe(200)
    expect(Readiness.parse(await ready.json()).ready).toBe(true)
  })
})
