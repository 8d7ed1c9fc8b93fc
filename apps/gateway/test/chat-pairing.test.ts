import { AuditPage, HttpError, PairingCheckResult, PairingDecision, PairingOverview } from '@parley/protocol'
import type { PairingStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { memoryPairingStore, startTestGateway, type TestGateway } from './support/test-gateway.js'

const POLICIES = { telegram: 'pair', slack: 'allowlist', irc: 'deny', web: 'open' } as const

describe('chat-user pairing for connectors', () => {
  const servers: TestGateway[] = []
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const server of servers.splice(0)) await server.dispose()
  })

  async function start(pairing: Record<string, unknown> = {}, options: { pairingStore?: PairingStore } = {}) {
    const server = await startTestGateway(
      { authToken: 'shared-secret-token', pairing: { policies: POLICIES, ...pairing } },
      options,
    )
    servers.push(server)
    return server
  }

  async function connect(server: TestGateway, role: 'connector' | 'client' = 'connector') {
    const created = await server.tokens.create({ name: `${role} bot`, role, scopes: ['*:*'] }, Date.now())
    const client = await TestClient.connect(server.started.wsUrl, { token: created.token })
    clients.push(client)
    return client
  }

  async function check(client: TestClient, channelType: string, senderId: string, displayName?: string) {
    const result = await client.ok({
      type: 'pairing_check',
      channelType,
      senderId,
      ...(displayName === undefined ? {} : { displayName }),
    })
    return PairingCheckResult.parse(result)
  }

  it('answers by policy: open allows, deny denies, allowlist allows listed senders only', async () => {
    const server = await start({ allowlist: { slack: ['U1'] } })
    const connector = await connect(server)
    expect(await check(connector, 'web', 'anyone')).toEqual({ status: 'allowed', policy: 'open' })
    expect(await check(connector, 'irc', 'anyone')).toEqual({ status: 'denied', policy: 'deny' })
    expect(await check(connector, 'slack', 'U1')).toEqual({ status: 'allowed', policy: 'allowlist' })
    expect(await check(connector, 'slack', 'U2')).toEqual({ status: 'denied', policy: 'allowlist' })
  })

  it('gives a new sender a code under pair (the default for unknown channel types) and the same code on a repeat', async () => {
    const server = await start()
    const connector = await connect(server)
    const first = await check(connector, 'telegram', '48213377', 'Ana')
    expect(first).toMatchObject({ status: 'pending', policy: 'pair' })
    expect(first.code).toMatch(/^[A-HJKMNP-Z2-9]{8}$/)
    expect(first.requestId).toMatch(/^pair_/)
    expect(first.approvalUrl).toBeUndefined()
    const again = await check(connector, 'telegram', '48213377', 'Ana')
    expect(again.code).toBe(first.code)
    expect(again.requestId).toBe(first.requestId)
    expect(await check(connector, 'matrix', '@bob:example.org')).toMatchObject({
      status: 'pending',
      policy: 'pair',
    })
  })

  it('refuses pairing_check from a connection whose role is not connector', async () => {
    const server = await start()
    const client = await connect(server, 'client')
    const answer = await client.request({ type: 'pairing_check', channelType: 'telegram', senderId: '1' })
    expect(answer).toMatchObject({ type: 'error', code: 'forbidden' })
  })

  it('approving a request by id pairs the sender who asked and tells every connector with pairing_resolved', async () => {
    const server = await start()
    const connector = await connect(server)
    const other = await connect(server)
    const pending = await check(connector, 'telegram', '48213377', 'Ana')
    const overview = PairingOverview.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/pairing')).body,
    )
    expect(overview.pending).toEqual([
      expect.objectContaining({
        id: pending.requestId,
        channelType: 'telegram',
        senderId: '48213377',
        displayName: 'Ana',
        locked: false,
      }),
    ])
    const approved = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/pairing/requests/${pending.requestId}/approve`,
    )
    expect(approved.status).toBe(200)
    expect(PairingDecision.parse(approved.body)).toEqual({
      requestId: pending.requestId,
      channelType: 'telegram',
      senderId: '48213377',
      status: 'approved',
    })
    for (const client of [connector, other]) {
      const resolved = await client.next('pairing_resolved')
      expect(resolved).toMatchObject({
        requestId: pending.requestId,
        senderId: '48213377',
        status: 'approved',
      })
    }
    expect(await server.pairing.isPaired('48213377', 'telegram')).toBe(true)
    expect(await check(connector, 'telegram', '48213377')).toEqual({ status: 'allowed', policy: 'pair' })
    const after = PairingOverview.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/pairing')).body,
    )
    expect(after.pending).toEqual([])
    expect(after.paired).toEqual([expect.objectContaining({ senderId: '48213377', approvedBy: 'admin' })])
    await server.audit?.flush()
    const audit = AuditPage.parse(
      (await adminCall(server.started.url, 'GET', '/api/admin/audit?kind=admin')).body,
    )
    expect(audit.events.map((event) => event.detail)).toEqual(
      expect.arrayContaining([expect.stringContaining(`pairing approve ${pending.requestId}`)]),
    )
  })

  it('counts wrong codes against the sender’s request until it is locked (409), and the operator can still approve it by id', async () => {
    const server = await start({ maxFailedAttempts: 2 })
    const connector = await connect(server)
    const pending = await check(connector, 'telegram', '77')
    const wrong = { channelType: 'telegram', code: 'AAAAAAAA', senderId: '77' }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const answer = await adminCall(server.started.url, 'POST', '/api/admin/pairing/approve', wrong)
      expect(answer.status).toBe(404)
      expect(HttpError.parse(answer.body).error.code).toBe('not_found')
    }
    const locked = await adminCall(server.started.url, 'POST', '/api/admin/pairing/approve', {
      ...wrong,
      code: pending.code,
    })
    expect(locked.status).toBe(409)
    expect(HttpError.parse(locked.body).error.code).toBe('conflict')
    const byId = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/pairing/requests/${pending.requestId}/approve`,
    )
    expect(byId.status).toBe(200)
    expect(await server.pairing.isPaired('77', 'telegram')).toBe(true)
  })

  it('approves with the right code, pairing the sender who asked', async () => {
    const server = await start()
    const connector = await connect(server)
    const pending = await check(connector, 'telegram', '99')
    const answer = await adminCall(server.started.url, 'POST', '/api/admin/pairing/approve', {
      channelType: 'telegram',
      code: pending.code,
    })
    expect(PairingDecision.parse(answer.body)).toMatchObject({ senderId: '99', status: 'approved' })
    expect(await connector.next('pairing_resolved')).toMatchObject({ senderId: '99', status: 'approved' })
  })

  it('deny removes the request and announces it; revoke unpairs and announces it', async () => {
    const server = await start()
    const connector = await connect(server)
    const denied = await check(connector, 'telegram', 'd1')
    const deny = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/pairing/requests/${denied.requestId}/deny`,
    )
    expect(PairingDecision.parse(deny.body)).toMatchObject({ senderId: 'd1', status: 'denied' })
    expect(await connector.next('pairing_resolved')).toMatchObject({ senderId: 'd1', status: 'denied' })
    expect(await server.pairing.isPaired('d1', 'telegram')).toBe(false)
    const again = await adminCall(
      server.started.url,
      'POST',
      `/api/admin/pairing/requests/${denied.requestId}/deny`,
    )
    expect(again.status).toBe(404)

    const paired = await check(connector, 'telegram', 'r1')
    await adminCall(server.started.url, 'POST', `/api/admin/pairing/requests/${paired.requestId}/approve`)
    const revoke = await adminCall(server.started.url, 'DELETE', '/api/admin/pairing/paired/telegram/r1')
    expect(PairingDecision.parse(revoke.body)).toEqual({
      requestId: null,
      channelType: 'telegram',
      senderId: 'r1',
      status: 'revoked',
    })
    await connector.waitFor((frame) => frame.type === 'pairing_resolved' && frame.status === 'revoked')
    expect(await server.pairing.isPaired('r1', 'telegram')).toBe(false)
    const missing = await adminCall(server.started.url, 'DELETE', '/api/admin/pairing/paired/telegram/r1')
    expect(missing.status).toBe(404)
  })

  it('answers rate_limited when a channel type has the maximum of pending requests', async () => {
    const server = await start({ maxPending: 2 })
    const connector = await connect(server)
    await check(connector, 'telegram', 'a')
    await check(connector, 'telegram', 'b')
    const answer = await connector.request({ type: 'pairing_check', channelType: 'telegram', senderId: 'c' })
    expect(answer).toMatchObject({ type: 'error', code: 'rate_limited' })
  })

  it('uses the PairingStore passed to createGateway, a plain object', async () => {
    const inner = memoryPairingStore(parseConfig({}))
    const calls: string[] = []
    const record = <T>(name: string, result: T): T => {
      calls.push(name)
      return result
    }
    const recording: PairingStore = {
      generateCode: (...args) => record('generateCode', inner.generateCode(...args)),
      approve: (...args) => record('approve', inner.approve(...args)),
      approveCode: (...args) => record('approveCode', inner.approveCode(...args)),
      approveRequest: (...args) => record('approveRequest', inner.approveRequest(...args)),
      deny: (...args) => record('deny', inner.deny(...args)),
      isPaired: (...args) => record('isPaired', inner.isPaired(...args)),
      listPaired: () => record('listPaired', inner.listPaired()),
      revoke: (...args) => record('revoke', inner.revoke(...args)),
      listPending: (...args) => record('listPending', inner.listPending(...args)),
    }
    const server = await start({}, { pairingStore: recording })
    const connector = await connect(server)
    const pending = await check(connector, 'telegram', 'custom')
    await adminCall(server.started.url, 'POST', `/api/admin/pairing/requests/${pending.requestId}/approve`)
    expect(calls).toEqual(expect.arrayContaining(['isPaired', 'generateCode', 'approveRequest']))
    expect(await inner.isPaired('custom', 'telegram')).toBe(true)
  })

  describe('owner approval link', () => {
    const PUBLIC_URL = 'https://parley.example.com'

    async function linked(displayName = 'Ana') {
      const server = await start({ publicUrl: PUBLIC_URL })
      const connector = await connect(server)
      const pending = await check(connector, 'telegram', '<b>42</b>', displayName)
      expect(pending.approvalUrl?.startsWith(`${PUBLIC_URL}/pairing/approve/`)).toBe(true)
      const local = `${server.started.url}${new URL(pending.approvalUrl ?? '').pathname}`
      return { server, connector, pending, local }
    }

    it('GET shows an escaped confirm page and changes nothing', async () => {
      const { server, local } = await linked('<img src=x onerror=alert(1)>')
      const response = await fetch(local)
      expect(response.status).toBe(200)
      expect(response.headers.get('referrer-policy')).toBe('no-referrer')
      const html = await response.text()
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(html).toContain('&lt;b&gt;42&lt;/b&gt;')
      expect(html).not.toContain('<img')
      expect(html).toContain('<form method="post">')
      expect(await server.pairing.isPaired('<b>42</b>', 'telegram')).toBe(false)
      expect(await server.pairing.listPending('telegram')).toHaveLength(1)
    })

    it('POST approves once and announces it; using the link again answers 410', async () => {
      const { server, connector, pending, local } = await linked()
      const first = await fetch(local, { method: 'POST' })
      expect(first.status).toBe(200)
      expect(PairingDecision.parse(await first.json())).toMatchObject({
        requestId: pending.requestId,
        senderId: '<b>42</b>',
        status: 'approved',
      })
      expect(await connector.next('pairing_resolved')).toMatchObject({ status: 'approved' })
      expect(await server.pairing.isPaired('<b>42</b>', 'telegram')).toBe(true)
      expect((await server.pairing.listPaired())[0]?.approvedBy).toBe('link')
      const again = await fetch(local, { method: 'POST' })
      expect(again.status).toBe(410)
      const page = await fetch(local)
      expect(page.status).toBe(410)
      const html = await fetch(local, { method: 'POST', headers: { accept: 'text/html' } })
      expect(html.status).toBe(410)
      expect(html.headers.get('content-type')).toContain('text/html')
    })

    it('a forged or altered link answers 403 and approves nothing', async () => {
      const { server, local } = await linked()
      const token = local.slice(local.lastIndexOf('/') + 1)
      const [payload = '', mac = ''] = token.split('.')
      // The first character carries six bits of the MAC (the last one also carries spare bits).
      const flipped = `${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`
      // The same MAC with a spare bit set: Node's lenient decoder reads it as the signed bytes.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const respelled = `${mac.slice(0, -1)}${alphabet[alphabet.indexOf(mac.at(-1) ?? 'A') | 1]}`
      const base = local.slice(0, local.lastIndexOf('/') + 1)
      for (const forged of [
        `${payload}.${flipped}`,
        `${payload}.${respelled}`,
        `${payload}.${mac.slice(0, 10)}`,
        'nonsense',
        `${Buffer.from('pair_x.99999999999999').toString('base64url')}.${mac}`,
      ]) {
        const post = await fetch(`${base}${forged}`, { method: 'POST' })
        expect(post.status, forged).toBe(403)
        expect((await fetch(`${base}${forged}`)).status).toBe(403)
      }
      expect(await server.pairing.isPaired('<b>42</b>', 'telegram')).toBe(false)
    })

    it('offers no approval link without a public URL', async () => {
      const server = await start()
      const connector = await connect(server)
      expect((await check(connector, 'telegram', 'x')).approvalUrl).toBeUndefined()
    })
  })
})
