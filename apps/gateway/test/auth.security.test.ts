import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const AUTH_TOKEN = 'shared-agent-token-abc'

describe('connection auth', () => {
  let server: TestGateway
  const clients: TestClient[] = []
  const open = async (options: Parameters<typeof TestClient.open>[1] = {}, url = server.started.wsUrl) => {
    const client = await TestClient.open(url, options)
    clients.push(client)
    return client
  }

  beforeEach(async () => {
    server = await startTestGateway({ authToken: AUTH_TOKEN })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.dispose()
  })

  it('refuses a wrong token with an unauthorized error frame, close 4001 and an auth_failure audit row', async () => {
    const client = await open()
    const answer = await client.hello({ clientId: 'intruder', token: 'not-the-token' })
    expect(answer).toMatchObject({ type: 'error', code: 'unauthorized', retryable: false })
    expect((await client.waitClosed()).code).toBe(4001)
    const page = await server.audit?.query({ kind: 'auth_failure', limit: 10 })
    expect(page?.events).toEqual([
      expect.objectContaining({ kind: 'auth_failure', outcome: 'denied', clientId: 'intruder' }),
    ])
    expect(JSON.stringify(page)).not.toContain('not-the-token')
  })

  it('refuses a hello without any token', async () => {
    const client = await open()
    expect(await client.hello()).toMatchObject({ type: 'error', code: 'unauthorized' })
    expect((await client.waitClosed()).code).toBe(4001)
  })

  it('accepts the token in hello.auth.token', async () => {
    const client = await open()
    expect(await client.hello({ token: AUTH_TOKEN })).toMatchObject({ type: 'welcome' })
  })

  it('accepts the token in an Authorization: Bearer header on the upgrade', async () => {
    const client = await open({ headers: { authorization: `Bearer ${AUTH_TOKEN}` } })
    expect(await client.hello()).toMatchObject({ type: 'welcome' })
  })

  it('ignores a token passed in the URL query', async () => {
    const client = await open({}, `${server.started.wsUrl}?token=${AUTH_TOKEN}`)
    expect(await client.hello()).toMatchObject({ type: 'error', code: 'unauthorized' })
  })
})

describe('browser origins', () => {
  let server: TestGateway
  beforeEach(async () => {
    server = await startTestGateway({ dashboardUrl: 'http://127.0.0.1:3000' })
  })
  afterEach(async () => {
    await server.dispose()
  })

  it('refuses the upgrade with 403 for an origin that is not allowed, loopback included', async () => {
    await expect(TestClient.open(server.started.wsUrl, { origin: 'http://127.0.0.1:4000' })).rejects.toThrow(
      'HTTP 403',
    )
    await expect(TestClient.open(server.started.wsUrl, { origin: 'https://evil.example' })).rejects.toThrow(
      'HTTP 403',
    )
  })

  it("allows the dashboard's origin by default and clients that send no origin", async () => {
    const fromDashboard = await TestClient.connect(
      server.started.wsUrl,
      {},
      { origin: 'http://127.0.0.1:3000' },
    )
    const agent = await TestClient.connect(server.started.wsUrl)
    fromDashboard.close()
    agent.close()
  })
})
