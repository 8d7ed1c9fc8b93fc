import { AuditPage, CreatedToken, HttpError, TokenInfo, TokenList } from '@parley/protocol'
import { createMemoryAuditLog, createMemoryTokenStore, type TokenStore } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { adminHeaders, TEST_ADMIN_TOKEN } from './support/test-gateway.js'

function appWithTokens() {
  const tokens = createMemoryTokenStore()
  const audit = createMemoryAuditLog()
  const gateway = createGateway({
    config: parseConfig({}),
    audit,
    tokenStore: tokens,
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: 'silent' }),
  })
  return { app: gateway.app, tokens, audit }
}

async function bearer(tokens: TokenStore, role: 'admin' | 'agent' | 'client' | 'connector') {
  const created = await tokens.create({ name: `${role} token`, role, scopes: ['*:*'] }, Date.now())
  return { headers: { authorization: `Bearer ${created.token}` }, created }
}

/** Every admin route the app serves, from Hono's own route table: a route added later is covered too. */
function adminRoutes(app: ReturnType<typeof appWithTokens>['app']): Array<{ method: string; path: string }> {
  const seen = new Set<string>()
  const routes: Array<{ method: string; path: string }> = []
  for (const route of app.routes) {
    // `use()` middleware is registered as ALL; it is not an endpoint.
    if (route.method === 'ALL' || !route.path.startsWith('/api/admin/')) continue
    const path = route.path.replace(/:[A-Za-z_]+/g, 'probe_id')
    const key = `${route.method} ${path}`
    if (seen.has(key)) continue
    seen.add(key)
    routes.push({ method: route.method, path })
  }
  return routes
}

describe('admin API roles', () => {
  it('answers every admin route with 401 without a token and 403 with a valid non-admin token', async () => {
    const { app, tokens } = appWithTokens()
    const routes = adminRoutes(app)
    // The routes known today must be in the table; any later one is checked without being listed here.
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining([
        'GET /api/admin/whoami',
        'GET /api/admin/connections',
        'GET /api/admin/tokens',
        'POST /api/admin/tokens',
        'DELETE /api/admin/tokens/probe_id',
        'POST /api/admin/dlq/probe_id/requeue',
        'DELETE /api/admin/dlq',
      ]),
    )
    for (const role of ['client', 'agent', 'connector'] as const) {
      const { headers } = await bearer(tokens, role)
      for (const { method, path } of routes) {
        const anonymous = await app.request(path, { method })
        expect(anonymous.status, `${method} ${path} without a token`).toBe(401)
        expect(HttpError.parse(await anonymous.json()).error.code).toBe('unauthorized')
        const wrong = await app.request(path, { method, headers: { authorization: 'Bearer pk_nonsense' } })
        expect(wrong.status, `${method} ${path} with a wrong token`).toBe(401)
        const forbidden = await app.request(path, { method, headers })
        expect(forbidden.status, `${method} ${path} as ${role}`).toBe(403)
        expect(HttpError.parse(await forbidden.json()).error.code).toBe('forbidden')
      }
    }
  })

  it('refuses the shared auth token on the admin API with 403: it is a client credential', async () => {
    const gateway = createGateway({
      config: parseConfig({ authToken: 'shared-secret-token' }),
      audit: createMemoryAuditLog(),
      tokenStore: createMemoryTokenStore(),
      adminToken: TEST_ADMIN_TOKEN,
      logger: pino({ level: 'silent' }),
    })
    const response = await gateway.app.request('/api/admin/whoami', {
      headers: { authorization: 'Bearer shared-secret-token' },
    })
    expect(response.status).toBe(403)
  })

  it('lets an API token with role admin in, as its own principal', async () => {
    const { app, tokens } = appWithTokens()
    const { headers, created } = await bearer(tokens, 'admin')
    const response = await app.request('/api/admin/whoami', { headers })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ role: 'admin', principal: created.record.id })
  })
})

describe('admin token routes', () => {
  it('creates a token (secret shown once), lists it without the secret and revokes it', async () => {
    const { app } = appWithTokens()
    const createdResponse = await app.request('/api/admin/tokens', {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', role: 'client', scopes: ['publish:ci.*'], expiresIn: 3600 }),
    })
    expect(createdResponse.status).toBe(201)
    const created = CreatedToken.parse(await createdResponse.json())
    expect(created.token).toMatch(/^pk_/)
    expect(created.info).toMatchObject({
      name: 'ci',
      role: 'client',
      scopes: ['publish:ci.*'],
      revokedAt: null,
    })
    expect(Date.parse(created.info.expiresAt ?? '') - Date.parse(created.info.createdAt)).toBe(3_600_000)

    const listResponse = await app.request('/api/admin/tokens', { headers: adminHeaders() })
    const listText = await listResponse.text()
    expect(listText).not.toContain(created.token)
    expect(TokenList.parse(JSON.parse(listText)).tokens.map((token) => token.id)).toEqual([created.info.id])

    const revoked = await app.request(`/api/admin/tokens/${created.info.id}`, {
      method: 'DELETE',
      headers: adminHeaders(),
    })
    expect(revoked.status).toBe(200)
    expect(TokenInfo.parse(await revoked.json()).revokedAt).not.toBeNull()
    const tokenAuth = await app.request('/api/admin/whoami', {
      headers: { authorization: `Bearer ${created.token}` },
    })
    expect(tokenAuth.status).toBe(401)
  })

  it('answers 404 for revoking an unknown token and 400 naming what is wrong in a bad request', async () => {
    const { app } = appWithTokens()
    const missing = await app.request('/api/admin/tokens/tok_AAAAAAAAAAAAAAAA', {
      method: 'DELETE',
      headers: adminHeaders(),
    })
    expect(missing.status).toBe(404)
    const bad = await app.request('/api/admin/tokens', {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', role: 'overlord', scopes: ['write:everything'] }),
    })
    expect(bad.status).toBe(400)
    expect(HttpError.parse(await bad.json()).error.message).toContain('role')
    const badScope = await app.request('/api/admin/tokens', {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', role: 'client', scopes: ['write:everything'] }),
    })
    expect(badScope.status).toBe(400)
    expect(HttpError.parse(await badScope.json()).error.message).toContain('write:everything')
    const notJson = await app.request('/api/admin/tokens', {
      method: 'POST',
      headers: adminHeaders(),
      body: '{',
    })
    expect(notJson.status).toBe(400)
  })

  it('audits every admin action as kind admin with the acting principal and never the secret', async () => {
    const { app, tokens, audit } = appWithTokens()
    const { headers: adminTokenHeaders, created: adminApiToken } = await bearer(tokens, 'admin')
    const createdResponse = await app.request('/api/admin/tokens', {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bot', role: 'agent' }),
    })
    const created = CreatedToken.parse(await createdResponse.json())
    await app.request(`/api/admin/tokens/${created.info.id}`, {
      method: 'DELETE',
      headers: adminTokenHeaders,
    })
    await app.request('/api/admin/tokens', { headers: adminHeaders() })

    const page = AuditPage.parse(await audit.query({ kind: 'admin', limit: 50 }))
    const rows = page.events
    expect(rows).toHaveLength(2)
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principal: 'admin',
          outcome: 'ok',
          detail: expect.stringMatching(new RegExp(`^token create ${created.info.id} name="bot" role=agent`)),
        }),
        expect.objectContaining({
          principal: adminApiToken.record.id,
          detail: expect.stringContaining(`token revoke ${created.info.id}`),
        }),
      ]),
    )
    expect(JSON.stringify(rows)).not.toContain(created.token)
  })
})
