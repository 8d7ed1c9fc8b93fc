import { AuditPage, ConversationPage, GrantList, PolicyList, PolicyRuleInfo } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const DENY_NEWS = {
  id: 'deny-news',
  description: 'nobody reads news',
  effect: 'deny',
  actions: ['subscribe'],
  subject: { kind: 'principal', pattern: '*' },
  target: { kind: 'channel', pattern: 'news.*' },
  priority: 10,
} as const

describe('policy admin API', () => {
  let server: TestGateway

  beforeEach(async () => {
    server = await startTestGateway()
  })

  afterEach(async () => {
    await server.dispose()
  })

  const call = (method: string, path: string, body?: unknown) =>
    adminCall(server.started.url, method, path, body)

  async function adminRows(): Promise<string[]> {
    const { body } = await call('GET', '/api/admin/audit?kind=admin&limit=100')
    return AuditPage.parse(body).events.map((event) => event.detail ?? '')
  }

  it('creates, lists, updates and deletes rules, sets the default, and audits every change', async () => {
    const initial = PolicyList.parse((await call('GET', '/api/admin/policies')).body)
    expect(initial).toEqual({ version: 0, defaultEffect: 'allow', rules: [] })

    const created = await call('POST', '/api/admin/policies', DENY_NEWS)
    expect(created.status).toBe(201)
    const rule = PolicyRuleInfo.parse(created.body)
    expect(rule).toMatchObject({ ...DENY_NEWS, createdAt: expect.any(String), updatedAt: expect.any(String) })

    const generated = PolicyRuleInfo.parse(
      (
        await call('POST', '/api/admin/policies', {
          effect: 'require_introduction',
          actions: ['message', 'request'],
          subject: { kind: 'role', pattern: 'agent' },
          target: { kind: 'capability', pattern: 'billing.*' },
        })
      ).body,
    )
    expect(generated.id).toMatch(/^pol_/)
    expect(generated).toMatchObject({ description: null, priority: 0, effect: 'require_introduction' })

    const listed = PolicyList.parse((await call('GET', '/api/admin/policies')).body)
    expect(listed.version).toBe(2)
    expect(listed.rules.map((each) => each.id)).toEqual(['deny-news', generated.id])

    const patched = await call('PATCH', '/api/admin/policies/deny-news', { priority: -1, description: null })
    expect(patched.status).toBe(200)
    expect(PolicyRuleInfo.parse(patched.body)).toMatchObject({
      id: 'deny-news',
      priority: -1,
      description: null,
    })

    const defaulted = await call('PUT', '/api/admin/policies/default', { effect: 'deny' })
    expect(defaulted.status).toBe(200)
    expect(PolicyList.parse(defaulted.body)).toMatchObject({ defaultEffect: 'deny', version: 4 })

    const deleted = await fetch(`${server.started.url}/api/admin/policies/deny-news`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    })
    expect(deleted.status).toBe(204)
    const after = PolicyList.parse((await call('GET', '/api/admin/policies')).body)
    expect(after.rules.map((each) => each.id)).toEqual([generated.id])

    const rows = await adminRows()
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^policy create deny-news deny subscribe \(201\)$/),
        expect.stringMatching(/^policy update deny-news \(200\)$/),
        expect.stringMatching(/^policy default deny \(200\)$/),
        expect.stringMatching(/^policy delete deny-news \(204\)$/),
      ]),
    )
  })

  it('answers 400 naming the field for a bad effect, action or default, and changes nothing', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/admin/policies', { ...DENY_NEWS, effect: 'maybe' }, /effect/],
      ['POST', '/api/admin/policies', { ...DENY_NEWS, actions: ['teleport'] }, /actions/],
      ['POST', '/api/admin/policies', { ...DENY_NEWS, id: 'has space' }, /id/],
      ['POST', '/api/admin/policies', 'not json', /body/],
      ['PATCH', '/api/admin/policies/deny-news', { effect: 'maybe' }, /effect/],
      ['PUT', '/api/admin/policies/default', { effect: 'require_introduction' }, /effect/],
    ]
    await call('POST', '/api/admin/policies', DENY_NEWS)
    for (const [method, path, body, field] of cases) {
      const answer = await call(method, path, body)
      expect(answer.status, `${method} ${path}`).toBe(400)
      expect(answer.body).toMatchObject({
        error: { code: 'bad_request', message: expect.stringMatching(field) },
      })
    }
    expect(PolicyList.parse((await call('GET', '/api/admin/policies')).body).version).toBe(1)
  })

  it('answers 404 for an unknown rule id and 409 for a taken one', async () => {
    expect((await call('PATCH', '/api/admin/policies/nope', { priority: 1 })).status).toBe(404)
    const deleted = await call('DELETE', '/api/admin/policies/nope')
    expect(deleted.status).toBe(404)
    expect(deleted.body).toMatchObject({ error: { code: 'not_found' } })
    expect((await call('POST', '/api/admin/policies', DENY_NEWS)).status).toBe(201)
    const taken = await call('POST', '/api/admin/policies', { ...DENY_NEWS, effect: 'allow' })
    expect(taken.status).toBe(409)
    expect(taken.body).toMatchObject({ error: { code: 'conflict' } })
  })

  it('stores descriptions that look like SQL or HTML and returns them as text', async () => {
    const descriptions = ["'; DROP TABLE policy_rules; --", '<script>alert("x")</script>', '%_\\ $1']
    for (const [index, description] of descriptions.entries()) {
      const created = await call('POST', '/api/admin/policies', {
        ...DENY_NEWS,
        id: `hostile-${index}`,
        description,
      })
      expect(PolicyRuleInfo.parse(created.body).description).toBe(description)
    }
    const listed = PolicyList.parse((await call('GET', '/api/admin/policies')).body)
    expect(listed.rules.map((each) => each.description).sort()).toEqual([...descriptions].sort())
  })

  it('checks scopes first, then policies: a frame must pass both', async () => {
    const { token } = await server.tokens.create(
      { name: 'news reader', role: 'client', scopes: ['subscribe:news.*'] },
      Date.now(),
    )
    const client = await TestClient.connect(server.started.wsUrl, { token })
    try {
      expect(await client.request({ type: 'subscribe', channel: 'news.today' })).toMatchObject({
        type: 'reply',
      })
      await call('POST', '/api/admin/policies', DENY_NEWS)
      // Outside the token's scopes: forbidden, whatever the policy says.
      expect(await client.request({ type: 'subscribe', channel: 'sports' })).toMatchObject({
        code: 'forbidden',
      })
      // Inside the scopes, the policy decides.
      expect(await client.request({ type: 'subscribe', channel: 'news.today' })).toMatchObject({
        code: 'policy_denied',
        details: { rule: 'deny-news' },
      })
    } finally {
      client.close()
    }
  })

  it('lists no grants, answers 404 for revoking an unknown grant and 400 for a bad all flag', async () => {
    expect(GrantList.parse((await call('GET', '/api/admin/grants')).body)).toEqual({ grants: [] })
    expect((await call('GET', '/api/admin/grants?all=maybe')).status).toBe(400)
    const missing = await call('DELETE', '/api/admin/grants/grt_nope')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } })
  })

  it('answers conversations between two parties oldest first, and 400 for a missing party or bad cursor', async () => {
    server.audit?.record({
      kind: 'message',
      outcome: 'ok',
      principal: 'planner',
      clientId: 'planner',
      target: 'billing',
      detail: 'one',
      time: new Date(1_000),
    })
    server.audit?.record({
      kind: 'message',
      outcome: 'ok',
      principal: 'billing',
      clientId: 'billing',
      target: 'planner',
      detail: 'two',
      time: new Date(2_000),
    })
    server.audit?.record({
      kind: 'message',
      outcome: 'ok',
      principal: 'planner',
      clientId: 'planner',
      target: 'other',
      detail: 'x',
      time: new Date(1_500),
    })
    const page = ConversationPage.parse(
      (await call('GET', '/api/admin/conversations?a=billing&b=planner&limit=1')).body,
    )
    expect(page.events.map((event) => event.detail)).toEqual(['one'])
    expect(page).toMatchObject({ a: 'billing', b: 'planner' })
    const next = ConversationPage.parse(
      (await call('GET', `/api/admin/conversations?a=billing&b=planner&cursor=${page.nextCursor}`)).body,
    )
    expect(next.events.map((event) => event.detail)).toEqual(['two'])
    expect(next.nextCursor).toBeNull()
    expect((await call('GET', '/api/admin/conversations?a=billing')).status).toBe(400)
    expect((await call('GET', '/api/admin/conversations?a=x&b=y&cursor=garbage!')).status).toBe(400)
  })
})
