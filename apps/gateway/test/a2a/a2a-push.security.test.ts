import { DeadLetterPage } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { capturingLogger } from '../support/capturing-logger.js'
import { admin } from '../support/delivery-helpers.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { a2aClient, rawRpc, sendRequest, userText } from './a2a-clients.js'
import { notificationSummary, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js'

const TOKEN = 'push-token-must-not-leak-4d2c'
const CREDENTIALS = 'push-credential-must-not-leak-8e1f'
/** A secret in the webhook URL's query: answered back with the URL, but never logged or audited. */
const URL_SECRET = 'url-query-secret-77b0'

describe('A2A push notification secrets', () => {
  const fixture = new SdkFixture()
  const receivers: WebhookReceiver[] = []

  afterEach(async () => {
    await fixture.dispose()
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
  })

  it('presents the token and credentials to the webhook only: not in logs, answers, audit rows or dead letters', async () => {
    const captured = capturingLogger()
    const server = await fixture.start(
      {
        a2a: { pushAllowInsecureUrls: true, pushAllowPrivateAddresses: true },
        delivery: { retryDelay: 0.01, retryBackoff: 1, maxRetries: 1 },
      },
      { logger: captured.logger },
    )
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    const good = await startWebhookReceiver(() => 200)
    const bad = await startWebhookReceiver(() => 500)
    receivers.push(good, bad)
    const client = await a2aClient(fixture.url, 'echo')
    const config = (id: string, url: string, scheme: string) => ({
      tenant: '',
      id,
      taskId: '',
      url,
      token: TOKEN,
      authentication: { scheme, credentials: CREDENTIALS },
    })
    const send = (text: string, taskPushNotificationConfig: ReturnType<typeof config>) =>
      client.sendMessage({
        ...sendRequest(userText(text)),
        configuration: { acceptedOutputModes: [], taskPushNotificationConfig, returnImmediately: false },
      })
    const badUrl = `${bad.url}?key=${URL_SECRET}`
    const sent = await send('hello', config('good', good.url, 'Bearer'))
    if (!('id' in sent)) throw new Error('expected a task')
    const created = await client.createTaskPushNotificationConfig({
      ...config('bad', badUrl, 'Basic'),
      taskId: sent.id,
    })
    // A config added to a finished task gets nothing more; the failing one is exercised through a new task.
    expect(created.token).toBe('')
    const second = await send('again', config('bad', badUrl, 'Basic'))
    if (!('id' in second)) throw new Error('expected a task')

    await expect
      .poll(() => good.accepted().some((item) => notificationSummary(item.body) === 'status COMPLETED'), {
        timeout: 10_000,
      })
      .toBe(true)
    expect(good.received[0]?.headers['x-a2a-notification-token']).toBe(TOKEN)
    const deadLetters = async () =>
      DeadLetterPage.parse((await admin(server, '/api/admin/dlq?kind=webhook&limit=100')).body).deadLetters
    await expect.poll(async () => (await deadLetters()).length, { timeout: 10_000 }).toBe(3)
    expect(bad.received[0]?.headers.authorization).toBe(`Basic ${CREDENTIALS}`)

    const listed = await rawRpc(
      fixture.url,
      'echo',
      { jsonrpc: '2.0', id: 1, method: 'ListTaskPushNotificationConfigs', params: { taskId: sent.id } },
      { 'A2A-Version': '1.0' },
    )
    expect((listed.body.result as { configs: unknown[] }).configs).toHaveLength(2)
    await server.audit?.flush()
    const audit = await server.audit?.query({ limit: 500 })
    const leaks = (text: string) =>
      text.includes(TOKEN) || text.includes(CREDENTIALS) || text.includes(URL_SECRET)
    expect(JSON.stringify(listed.body)).not.toMatch(new RegExp(`${TOKEN}|${CREDENTIALS}`))
    expect(leaks(JSON.stringify(await deadLetters()))).toBe(false)
    expect(leaks(JSON.stringify(audit))).toBe(false)
    expect(audit?.events.some((row) => row.detail?.startsWith('push bad attempt 2: HTTP 500'))).toBe(true)
    expect(captured.text()).toContain('webhook delivery dead-lettered')
    expect(leaks(captured.text())).toBe(false)
  })
})
