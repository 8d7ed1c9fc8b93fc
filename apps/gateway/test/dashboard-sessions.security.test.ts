import {
  CreatedDashboardSession,
  DashboardSessionList,
  HttpError,
  RevokedDashboardSessions,
} from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { adminHeaders, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

let server: TestGateway | undefined

afterEach(async () => {
  await server?.dispose()
  server = undefined
})

async function start(config: GatewayConfigInput = {}): Promise<string> {
  server = await startTestGateway(config)
  return server.started.url
}

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...adminHeaders(token),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

async function login(url: string, credential = TEST_ADMIN_TOKEN) {
  const opened = await call(url, 'POST', '/api/admin/sessions', credential, { userAgent: 'Chromium test' })
  expect(opened.status).toBe(201)
  return CreatedDashboardSession.parse(opened.body)
}

describe('dashboard sessions', () => {
  it('opens an opaque session with the admin token: a random secret, not the token, that the admin API accepts', async () => {
    const url = await start()
    const session = await login(url)
    expect(session.session).toMatch(/^ps_[A-Za-z0-9_-]{43}$/)
    expect(session.session).not.toContain(TEST_ADMIN_TOKEN)
    expect(session.info).toMatchObject({ principal: 'admin', userAgent: 'Chromium test', current: true })
    expect(Date.parse(session.info.expiresAt) - Date.parse(session.info.createdAt)).toBe(12 * 3600 * 1000)
    expect(await call(url, 'GET', '/api/admin/whoami', session.session)).toEqual({
      status: 200,
      body: { role: 'admin', principal: 'admin' },
    })
  })

  it('revokes the session on logout: its secret is refused from then on', async () => {
    const url = await start()
    const session = await login(url)
    const logout = await call(url, 'DELETE', '/api/admin/sessions/current', session.session)
    expect(RevokedDashboardSessions.parse(logout.body)).toEqual({ revoked: 1 })
    const after = await call(url, 'GET', '/api/admin/whoami', session.session)
    expect(after.status).toBe(401)
    expect(HttpError.parse(after.body).error.code).toBe('unauthorized')
  })

  it('lists live sessions with who, when, user agent and address, marking the caller, and never a secret', async () => {
    const url = await start()
    const first = await login(url)
    const second = await login(url)
    const listed = await call(url, 'GET', '/api/admin/sessions', second.session)
    const { sessions } = DashboardSessionList.parse(listed.body)
    expect(sessions.map((session) => [session.id, session.current])).toEqual([
      [second.info.id, true],
      [first.info.id, false],
    ])
    expect(sessions[0]).toMatchObject({
      principal: 'admin',
      userAgent: 'Chromium test',
      address: '127.0.0.1',
    })
    expect(JSON.stringify(listed.body)).not.toContain(first.session)
    expect(JSON.stringify(listed.body)).not.toContain(second.session)
  })

  it('logs out everywhere: every session ends, the admin token keeps working', async () => {
    const url = await start()
    const sessions = [await login(url), await login(url), await login(url)]
    const everywhere = await call(url, 'DELETE', '/api/admin/sessions', sessions[0]?.session ?? '')
    expect(RevokedDashboardSessions.parse(everywhere.body)).toEqual({ revoked: 3 })
    for (const session of sessions) {
      expect((await call(url, 'GET', '/api/admin/whoami', session.session)).status).toBe(401)
    }
    expect((await call(url, 'GET', '/api/admin/sessions', TEST_ADMIN_TOKEN)).body).toEqual({
      sessions: [],
    })
  })

  it('ends one other session by its public id', async () => {
    const url = await start()
    const mine = await login(url)
    const other = await login(url)
    expect((await call(url, 'DELETE', `/api/admin/sessions/${other.info.id}`, mine.session)).status).toBe(200)
    expect((await call(url, 'GET', '/api/admin/whoami', other.session)).status).toBe(401)
    expect((await call(url, 'GET', '/api/admin/whoami', mine.session)).status).toBe(200)
    expect((await call(url, 'DELETE', `/api/admin/sessions/${other.info.id}`, mine.session)).status).toBe(404)
  })

  it('refuses to open a session with a session, so a stolen cookie cannot outlive its expiry', async () => {
    const url = await start()
    const session = await login(url)
    const refused = await call(url, 'POST', '/api/admin/sessions', session.session, {})
    expect(refused.status).toBe(403)
    expect(HttpError.parse(refused.body).error.code).toBe('forbidden')
  })

  it('ends a session opened with an admin API token when that token is revoked', async () => {
    const url = await start()
    const created = await server?.tokens.create({ name: 'ops', role: 'admin', scopes: ['*:*'] }, Date.now())
    const session = await login(url, created?.token)
    expect(session.info.principal).toBe(created?.record.id)
    const revoke = await call(url, 'DELETE', `/api/admin/tokens/${created?.record.id}`, session.session)
    expect(revoke.status).toBe(200)
    expect((await call(url, 'GET', '/api/admin/whoami', session.session)).status).toBe(401)
  })

  it('lasts dashboardSessionTtl and no longer than the token it was opened with', async () => {
    const url = await start({ dashboardSessionTtl: 600 })
    const session = await login(url)
    expect(Date.parse(session.info.expiresAt) - Date.parse(session.info.createdAt)).toBe(600_000)
    const shortToken = await server?.tokens.create(
      { name: 'short', role: 'admin', scopes: ['*:*'], expiresAt: Date.now() + 60_000 },
      Date.now(),
    )
    const shortSession = await login(url, shortToken?.token)
    expect(Date.parse(shortSession.info.expiresAt)).toBe(shortToken?.record.expiresAt)
  })

  it('refuses a malformed login body with a message naming the field', async () => {
    const url = await start()
    const refused = await call(url, 'POST', '/api/admin/sessions', TEST_ADMIN_TOKEN, {
      userAgent: 'x'.repeat(600),
    })
    expect(refused.status).toBe(400)
    expect(HttpError.parse(refused.body).error.message).toMatch(/userAgent/)
  })
})
