import { AgentClient } from '@parley/client'
import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, recordDialogs, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

// The gateway of this suite dead-letters after 1 + maxRetries refused attempts (see e2e-env.ts).
const ATTEMPTS = 1 + E2E.delivery.maxRetries

/** An instance of `agentId` with its own client id that answers who it is. */
async function instance(agentId: string, clientId: string): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, { agentId, clientId, capabilities: [] })
  agent.handle(async () => ({ by: clientId }))
  await agent.connect()
  return agent
}

test('the Conversation view shows replies from every instance of an agent, opens at the newest rows, and Conversation with… fills both agents', async ({
  page,
}) => {
  const summarizer = uniqueName('e2e-summarizer')
  const web = uniqueName('e2e-web')
  const first = await instance(summarizer, `${summarizer}-a`)
  const second = await instance(summarizer, `${summarizer}-b`)
  const caller = new AgentClient(E2E.wsUrl, { agentId: web, clientId: `${web}-1`, capabilities: [] })
  await caller.connect()
  try {
    // 120 requests in pairs (each pair keeps both instances busy, so both answer): 240 rows, more than the
    // view's first page of 100.
    const results = []
    for (let round = 0; round < 60; round += 1) {
      results.push(
        ...(await Promise.all([
          caller.requestResult(summarizer, { round }),
          caller.requestResult(summarizer, { round }),
        ])),
      )
    }
    const fromSecond = results.filter((result) => (result.data as { by: string }).by === `${summarizer}-b`)
    expect(fromSecond.length).toBeGreaterThan(0)
    const newest = fromSecond.at(-1)?.correlationId ?? ''
    const oldest = results[0]?.correlationId ?? ''

    await logIn(page)
    await page.getByTestId('nav-agents').click()
    const row = page.locator(`[data-testid="agent-row"][data-agent-id="${summarizer}"]`)
    await row.getByTestId('agent-conversation-link').click()
    await row.locator(`[data-testid="agent-conversation-peer"][data-peer="${web}"]`).click()
    await expect(page.getByTestId('conversation-a')).toHaveValue(summarizer)
    await expect(page.getByTestId('conversation-b')).toHaveValue(web)

    // The newest request and the reply from the second instance are on the first page, without Load older.
    const newestRows = page.locator(`[data-testid="conversation-row"][data-correlation-id="${newest}"]`)
    await expect(newestRows).toHaveCount(2)
    const reply = newestRows.filter({ has: page.getByTestId('conversation-kind').getByText('reply') })
    await expect(reply.getByTestId('conversation-direction')).toHaveText(`${summarizer} → ${web}`)
    await expect(page.getByTestId('conversation-party-a')).toContainText(`${summarizer}-b`)
    // The oldest come on demand.
    const oldestRows = page.locator(`[data-testid="conversation-row"][data-correlation-id="${oldest}"]`)
    await expect(oldestRows).toHaveCount(0)
    await page.getByTestId('conversation-load-more').click()
    await page.getByTestId('conversation-load-more').click()
    await expect(oldestRows).toHaveCount(2)
  } finally {
    await Promise.all([first.close(), second.close(), caller.close()])
  }
})

test('a device waiting for pairing counts on the Overview like on the health card, and is listed on Connections with a link to approve it', async ({
  page,
}) => {
  const deviceName = uniqueName('e2e-waiting-device')
  const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: deviceName,
  })
  try {
    await logIn(page)
    await expect(page.getByTestId('overview-pairing-waiting')).toBeVisible()
    // One count everywhere: the health card and the Connections card agree.
    await expect
      .poll(async () => {
        const health = await page.getByTestId('health-connections').textContent()
        const card = await page.getByTestId('connections-count-value').textContent()
        return health !== '—' && health === card
      })
      .toBe(true)
    await expect(page.getByTestId('connections-count-parts')).toContainText('waiting for pairing')

    await page.getByTestId('nav-connections').click()
    const waiting = page.locator(`[data-testid="pairing-connection-row"][data-request-id="${requestId}"]`)
    await expect(waiting).toContainText(deviceName)
    await expect(page.getByTestId('connections-summary')).toContainText('waiting for pairing')
    await waiting.getByTestId('pairing-connection-approve').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/pairing#device-${requestId}`)
    await expect(
      page.locator(`[data-testid="device-request-row"][data-request-id="${requestId}"]`),
    ).toContainText(deviceName)
  } finally {
    await adminApi('POST', `/api/admin/devices/${requestId}/deny`)
    await device.close()
  }
})

test('a durable subscription shows on Connections, marked durable, and counts among the channel subscribers', async ({
  page,
}) => {
  const clientId = uniqueName('e2e-durable')
  const channel = uniqueName('e2e.durable')
  const client = await RawParleyClient.connect(E2E.wsUrl, clientId)
  try {
    expect(await client.request({ type: 'subscribe', channel, durable: true })).toMatchObject({
      durable: true,
    })

    await logIn(page)
    await page.getByTestId('nav-connections').click()
    const row = page.getByTestId('connection-row').filter({ hasText: clientId })
    const subscription = row.locator(`[data-testid="connection-subscription"][data-channel="${channel}"]`)
    await expect(subscription.getByTestId('connection-subscription-durable')).toHaveText('durable')

    await page.getByTestId('nav-channels').click()
    const channelRow = page.locator(`[data-testid="channel-row"][data-channel="${channel}"]`)
    await expect(channelRow.getByTestId('channel-subscribers')).toHaveText('1')
    await expect(channelRow.getByTestId('channel-durable-subscribers')).toHaveText('1')
  } finally {
    await client.close()
  }
})

test('a requeued dead letter that dies again shows its requeue history and the attempts of this life', async ({
  page,
}) => {
  const recipientId = uniqueName('e2e-requeued')
  const recipient = await RawParleyClient.connect(E2E.wsUrl, recipientId)
  const sender = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-sender'))
  try {
    recipient.onDirectMessage((message) => {
      recipient.post({ type: 'nack', deliveryId: message.deliveryId, reason: 'always refused' })
    })
    const deliveryId = String(
      (await sender.request({ type: 'send', to: recipientId, data: { n: 1 } })).deliveryId,
    )
    const deadLetter = async () =>
      (await adminApi('GET', `/api/admin/dlq/${deliveryId}`)).body as { attempts?: number }
    await expect.poll(async () => (await deadLetter()).attempts).toBe(ATTEMPTS)
    expect((await adminApi('POST', `/api/admin/dlq/${deliveryId}/requeue`)).status).toBe(200)
    await expect.poll(async () => (await deadLetter()).attempts).toBe(2 * ATTEMPTS)

    await logIn(page)
    await page.goto(`/deliveries?recipient=${encodeURIComponent(recipientId)}`)
    const row = page.locator(`[data-testid="dlq-row"][data-delivery-id="${deliveryId}"]`)
    await expect(row.getByTestId('dlq-attempts')).toContainText(String(2 * ATTEMPTS))
    await expect(row.getByTestId('dlq-requeues')).toHaveText('requeued 1×')
    await row.getByTestId('dlq-inspect').click()
    const detail = page.getByTestId('dlq-detail')
    await expect(detail.getByTestId('dlq-detail-attempts')).toHaveText(
      `${2 * ATTEMPTS} in all, ${ATTEMPTS} since the last requeue`,
    )
    await expect(detail.getByTestId('dlq-detail-requeues')).toContainText(/^once, last \d{4}-\d\d-\d\d /)
  } finally {
    await adminApi('DELETE', `/api/admin/dlq?recipient=${encodeURIComponent(recipientId)}`)
    await Promise.all([recipient.close(), sender.close()])
  }
})

test('the Agents page shows the metadata each instance registered, as text', async ({ page }) => {
  const dialogs = recordDialogs(page)
  const agentId = uniqueName('e2e-meta')
  const agent = new AgentClient(E2E.wsUrl, {
    agentId,
    capabilities: [],
    metadata: { model: '<b>small</b>', limits: { tokens: 4096 } },
  })
  await agent.connect()
  try {
    await logIn(page)
    await page.getByTestId('nav-agents').click()
    const row = page.getByTestId('instance-row').filter({ hasText: agentId })
    const entries = row.getByTestId('instance-metadata-entry')
    await expect(entries).toHaveText(['limits{"tokens":4096}', 'model<b>small</b>'])
    await expect(row.locator('b')).toHaveCount(0)
    expect(dialogs).toEqual([])
  } finally {
    await agent.close()
  }
})
