import { PairingCheckResult, PROTOCOL_VERSION } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { capturingLogger } from './support/capturing-logger.js'
import { PollingTestClient } from './support/polling-test-client.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

const AUTH_TOKEN = 'shared-secret-token-for-the-log-test'
const PUBLIC_URL = 'https://parley.example.com'

describe('secrets stay out of the logs', () => {
  let server: TestGateway | undefined
  const clients: Array<TestClient | PollingTestClient> = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
    server = undefined
  })

  it('logs none of the secrets created by tokens, pairing, approval links, session resume and polling', async () => {
    const captured = capturingLogger()
    server = await startTestGateway(
      {
        authToken: AUTH_TOKEN,
        allowAnonymous: false,
        pairing: { publicUrl: PUBLIC_URL, policies: { telegram: 'pair' } },
      },
      { logger: captured.logger },
    )
    const { url, wsUrl } = server.started
    const secrets = new Map<string, string>([
      ['admin token', TEST_ADMIN_TOKEN],
      ['shared auth token', AUTH_TOKEN],
    ])

    // API tokens made through the admin API, used on a WebSocket; and a wrong one presented.
    const created = await adminCall(url, 'POST', '/api/admin/tokens', {
      name: 'connector bot',
      role: 'connector',
      scopes: ['*:*'],
    })
    expect(created.status).toBe(201)
    const apiToken = (created.body as { token: string }).token
    secrets.set('api token', apiToken)
    const connector = await TestClient.connect(wsUrl, { token: apiToken })
    clients.push(connector)
    secrets.set('session id', connector.framesOf('welcome')[0]?.sessionId ?? '')
    const wrongToken = `pk_nothing_${'w'.repeat(40)}`
    secrets.set('wrong token', wrongToken)
    const refused = await TestClient.open(wsUrl)
    clients.push(refused)
    expect((await refused.hello({ token: wrongToken })).type).toBe('error')

    // Chat pairing: the code and the approval link, viewed, used, and used again.
    const pending = PairingCheckResult.parse(
      await connector.ok({
        type: 'pairing_check',
        channelType: 'telegram',
        senderId: '42',
        displayName: 'Ana',
      }),
    )
    secrets.set('pairing code', pending.code ?? '')
    const linkPath = new URL(pending.approvalUrl ?? '').pathname
    secrets.set('approval link token', linkPath.split('/').pop() ?? '')
    expect((await fetch(`${url}${linkPath}`)).status).toBe(200)
    expect((await fetch(`${url}${linkPath}`, { method: 'POST' })).status).toBe(200)
    expect((await fetch(`${url}${linkPath}`, { method: 'POST' })).status).toBe(410)
    const forgedPath = `${linkPath.slice(0, -4)}AAAA`
    secrets.set('forged link token', forgedPath.split('/').pop() ?? '')
    expect((await fetch(`${url}${forgedPath}`)).status).toBe(403)

    // Device pairing: the device's token arrives on its socket.
    const device = await TestClient.open(wsUrl)
    clients.push(device)
    device.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      pairing: { device: { name: 'kitchen tablet', platform: 'android' } },
    })
    const devicePending = await device.next('pairing_pending')
    const approved = await adminCall(url, 'POST', `/api/admin/devices/${devicePending.requestId}/approve`, {
      role: 'client',
      scopes: ['subscribe:*'],
    })
    expect(approved.status).toBe(200)
    secrets.set('device token', (await device.next('pairing_approved')).token)
    await device.next('welcome')

    // Session resume: the session id is the resume credential.
    const leaving = await TestClient.connect(wsUrl, { token: apiToken })
    const resumeId = leaving.framesOf('welcome')[0]?.sessionId ?? ''
    secrets.set('resumed session id', resumeId)
    leaving.close()
    await leaving.waitClosed()
    const returning = await TestClient.open(wsUrl)
    clients.push(returning)
    returning.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      auth: { token: apiToken },
      resume: { sessionId: resumeId },
    })
    expect(await returning.next('welcome')).toMatchObject({ sessionId: resumeId, resumed: true })

    // Polling: the session id travels in bodies only.
    const polling = await PollingTestClient.connect(url, { token: apiToken })
    clients.push(polling)
    secrets.set('poll session', polling.session)
    await polling.subscribe('logs.test')

    const logs = captured.text()
    for (const [name, secret] of secrets) {
      expect(secret.length, `${name} was captured`).toBeGreaterThanOrEqual(8)
      expect(logs.includes(secret), `the logs contain the ${name}`).toBe(false)
    }
    // The capture works: the link's request was logged, with its token replaced.
    expect(logs).toContain('/pairing/approve/[redacted]')
  })
})
