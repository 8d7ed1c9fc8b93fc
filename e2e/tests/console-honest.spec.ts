import { AgentClient, PushClient } from '@parley/client'
import { expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

/** What the dashboard's `/api/gw/*` routes answer when the gateway is down (502 with the failure as data). */
const GATEWAY_DOWN = {
  ok: false,
  failure: { kind: 'unreachable', url: E2E.gatewayUrl, reason: 'connect ECONNREFUSED (test)' },
}

/** From now on every gateway call of the browser fails, as when the gateway goes down after a good load. */
async function failGatewayCalls(page: Page): Promise<void> {
  await page.route('**/api/gw/**', (route) => route.fulfill({ status: 502, json: GATEWAY_DOWN }))
}

test.describe('honest states (issue 17 item 6)', () => {
  test('a failed refresh keeps the connections, marked stale with the last update time, and says what failed', async ({
    page,
  }) => {
    const clientId = uniqueName('e2e-honest')
    const client = new PushClient(E2E.wsUrl, { clientId })
    await client.connect()
    try {
      await logIn(page)
      await page.getByTestId('nav-connections').click()
      const row = page.getByTestId('connection-row').filter({ hasText: clientId })
      await expect(row).toBeVisible()

      await failGatewayCalls(page)
      const banner = page.getByTestId('gateway-error')
      await expect(banner).toContainText('connect ECONNREFUSED (test)')
      await expect(banner).toContainText(/last updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/)
      await expect(page.getByTestId('connections-table-stale')).toContainText('last updated')
      // The rows stay: never the empty or "unavailable" line for a failure after data.
      await expect(row).toBeVisible()
      await expect(page.getByTestId('connections-table-empty')).toHaveCount(0)
      await expect(banner).toHaveCount(1)
    } finally {
      await client.close()
    }
  })

  test('a failed refresh keeps the audit rows, marked stale, instead of "unavailable"', async ({ page }) => {
    const channel = uniqueName('e2e.honest-audit')
    const client = new PushClient(E2E.wsUrl, { clientId: uniqueName('e2e-honest-audit') })
    await client.connect()
    try {
      await client.subscribe(channel)
      await client.publish(channel, { n: 1 })
      await logIn(page)
      await page.goto(`/audit?channel=${channel}&kind=publish`)
      await expect(page.getByTestId('audit-row')).toHaveCount(1)

      await failGatewayCalls(page)
      await expect(page.getByTestId('audit-table-stale')).toContainText('last updated')
      await expect(page.getByTestId('audit-row')).toHaveCount(1)
      await expect(page.getByTestId('audit-table')).not.toContainText('unavailable')
      await expect(page.getByTestId('gateway-error')).toHaveCount(1)
    } finally {
      await client.close()
    }
  })

  test('the Agents page says a failure once though each of its sections met it, and counts no zero agents', async ({
    page,
  }) => {
    const agentId = uniqueName('e2e-honest-agent')
    const agent = new AgentClient(E2E.wsUrl, { agentId, capabilities: ['honest.check'] })
    await agent.connect()
    try {
      await logIn(page)
      await page.getByTestId('nav-agents').click()
      await expect(page.locator(`[data-testid="agent-row"][data-agent-id="${agentId}"]`)).toBeVisible()
      const count = await page.getByTestId('agents-count').textContent()

      await failGatewayCalls(page)
      // Every section has refreshed into the failure (each table says its data is stale)...
      for (const table of ['agents-table', 'agent-instances-table', 'a2a-agents-table', 'grants-table']) {
        await expect(page.getByTestId(`${table}-stale`)).toBeVisible()
      }
      // ...and the page says so once.
      await expect(page.getByTestId('gateway-error')).toHaveCount(1)
      await expect(page.getByTestId('gateway-error')).toContainText('connect ECONNREFUSED (test)')
      // The agents stay listed and counted as before, not "0 agents".
      await expect(page.locator(`[data-testid="agent-row"][data-agent-id="${agentId}"]`)).toBeVisible()
      await expect(page.getByTestId('agents-count')).toHaveText(count ?? '')
    } finally {
      await agent.close()
    }
  })
})

test.describe('a readable audit (issue 17 item 7)', () => {
  /** A client publishing to its own channel: each publish is one audit row of that channel. */
  async function publisher(channel: string) {
    const client = new PushClient(E2E.wsUrl, { clientId: uniqueName('e2e-audit-reader') })
    await client.connect()
    await client.subscribe(channel)
    return {
      publish: (n: number) => client.publish(channel, { n }),
      close: () => client.close(),
    }
  }

  for (const [how, pause] of [
    [
      'selects text in it',
      async (page: Page) => {
        await page.getByTestId('audit-row').first().getByText('publish').dblclick()
      },
    ],
    [
      'scrolls over it',
      async (page: Page) => {
        await page.getByTestId('audit-table').hover()
        await page.mouse.wheel(0, 40)
      },
    ],
  ] as const) {
    test(`the audit stops shifting while the operator ${how}, counts the new events and shows them on a click`, async ({
      page,
    }) => {
      const channel = uniqueName('e2e.reading')
      const client = await publisher(channel)
      try {
        await logIn(page)
        await client.publish(1)
        await page.goto(`/audit?channel=${channel}&kind=publish`)
        const rows = page.getByTestId('audit-row')
        await expect(rows).toHaveCount(1)

        await pause(page)
        await expect(page.getByTestId('audit-paused')).toBeVisible()
        await client.publish(2)
        await client.publish(3)
        // The refresh goes on behind: the two new rows are counted, not shown.
        await expect(page.getByTestId('audit-new-events')).toHaveText('2 new events')
        await expect(rows).toHaveCount(1)

        await page.getByTestId('audit-new-events').click()
        await expect(rows).toHaveCount(3)
        await expect(page.getByTestId('audit-paused')).toHaveCount(0)
      } finally {
        await client.close()
      }
    })
  }
})

test('principals read as their token names, with the id on hover, and the policy form finds one by name (issue 17 item 8)', async ({
  page,
}) => {
  const name = uniqueName('e2e-named-token')
  const created = await adminApi('POST', '/api/admin/tokens', { name, role: 'client', scopes: ['*:*'] })
  expect(created.status).toBe(201)
  const tokenId = (created.body as { info: { id: string } }).info.id
  const { token } = created.body as { token: string }
  const clientId = uniqueName('e2e-named-client')
  const channel = uniqueName('e2e.named')
  const ruleId = uniqueName('e2e-named-rule')
  const client = new PushClient(E2E.wsUrl, { clientId, authToken: token })
  await client.connect()
  try {
    await client.subscribe(channel)
    await client.publish(channel, { hello: 'names' })
    await logIn(page)

    await page.getByTestId('nav-connections').click()
    const connection = page.getByTestId('connection-row').filter({ hasText: clientId })
    await expect(connection.getByTestId('principal-name')).toHaveText(name)
    await expect(connection.getByTestId('principal-name')).toHaveAttribute('title', `${tokenId} (token)`)
    await expect(connection).not.toContainText(tokenId)

    await page.goto(`/audit?channel=${channel}&kind=publish`)
    const event = page.getByTestId('audit-row')
    await expect(event.getByTestId('principal-name')).toHaveText(name)
    await expect(event.getByTestId('principal-name')).toHaveAttribute('title', `${tokenId} (token)`)

    await page.getByTestId('nav-policies').click()
    await page.getByTestId('policy-create-id').fill(ruleId)
    await page.getByTestId('policy-create-action-publish').check()
    await page.getByTestId('policy-create-subject-principal-search').fill(name.slice(0, -3).toUpperCase())
    await page.getByTestId('policy-create-subject-principal-option').filter({ hasText: name }).click()
    await expect(page.getByTestId('policy-create-subject-pattern')).toHaveValue(tokenId)
    await page.getByTestId('policy-create-target-kind').selectOption('channel')
    await page.getByTestId('policy-create-target-pattern').fill(channel)
    await page.getByTestId('policy-create-submit').click()
    const rule = page.locator(`[data-testid="policy-rule-row"][data-rule-id="${ruleId}"]`)
    await expect(rule.getByTestId('policy-rule-subject')).toHaveText(`principal:${name}`)
    await expect(rule.getByTestId('principal-name')).toHaveAttribute('title', `${tokenId} (token)`)
  } finally {
    await client.close()
    await adminApi('DELETE', `/api/admin/policies/${ruleId}`)
  }
})

test.describe('tables that keep their shape (issue 17 item 9)', () => {
  test.use({ viewport: { width: 1280, height: 900 } })

  test('a dead letter’s actions stay on one line and its recipient is one cut line with a copy button', async ({
    page,
    context,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    const recipientId = uniqueName('e2e-shape-recipient-with-a-rather-long-client-id')
    const recipient = await RawParleyClient.connect(E2E.wsUrl, recipientId)
    const sender = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-shape-sender'))
    try {
      // Refused every time, with a long reason, until it is dead-lettered.
      recipient.onDirectMessage((message) => {
        recipient.post({ type: 'nack', deliveryId: message.deliveryId, reason: 'refused '.repeat(30) })
      })
      await sender.request({ type: 'send', to: recipientId, data: { note: 'x'.repeat(300) } })
      await logIn(page)
      await page.goto(`/deliveries?recipient=${recipientId}`)
      const row = page.getByTestId('dlq-row')
      await expect(row).toHaveCount(1)

      const tops = await Promise.all(
        ['dlq-inspect', 'dlq-requeue', 'dlq-purge'].map(async (testId) => {
          const box = await row.getByTestId(testId).boundingBox()
          return box?.y ?? Number.NaN
        }),
      )
      expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(2)

      const recipientText = row.locator('.id-text').first()
      await expect(recipientText).toHaveText(recipientId)
      await expect(recipientText).toHaveAttribute('title', recipientId)
      const text = await recipientText.boundingBox()
      const copy = await row.getByRole('button', { name: `Copy ${recipientId}` }).boundingBox()
      // One line: the id is no taller than its copy button.
      expect(text?.height ?? 0).toBeLessThanOrEqual((copy?.height ?? 0) + 2)
      await row.getByRole('button', { name: `Copy ${recipientId}` }).click()
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(recipientId)
    } finally {
      await recipient.close()
      await sender.close()
    }
  })

  test('a revoked token’s row keeps a readable Scopes column', async ({ page }) => {
    // A laptop's width, where the other columns (times that never wrap) squeeze the table.
    await page.setViewportSize({ width: 1024, height: 800 })
    const created = await adminApi('POST', '/api/admin/tokens', {
      name: uniqueName('e2e-shape-token'),
      role: 'client',
      scopes: ['publish:orders.eu.*', 'subscribe:orders.eu.*', 'send:billing-*'],
    })
    const tokenId = (created.body as { info: { id: string } }).info.id
    await adminApi('DELETE', `/api/admin/tokens/${tokenId}`)
    await logIn(page)
    await page.getByTestId('nav-access').click()
    const row = page.locator(`[data-testid="token-row"][data-token-id="${tokenId}"]`)
    await expect(row.getByTestId('token-status')).toHaveText('revoked')
    const scopes = row.locator('td.scopes')
    await expect(scopes).toContainText('subscribe:orders.eu.*')
    // Wide enough for its longest scope on one line: no "orders.e/u" breaks.
    const box = await scopes.boundingBox()
    const longest = await scopes.evaluate((cell) => {
      const probe = document.createElement('span')
      probe.textContent = 'subscribe:orders.eu.*'
      probe.style.whiteSpace = 'nowrap'
      cell.append(probe)
      const width = probe.getBoundingClientRect().width
      probe.remove()
      return width
    })
    expect(box?.width ?? 0).toBeGreaterThanOrEqual(longest)
  })
})

test('sizes carry units and audit times are typed and shown in UTC, 24-hour (issue 17 item 10)', async ({
  page,
}) => {
  const channel = uniqueName('e2e.units')
  const client = new PushClient(E2E.wsUrl, { clientId: uniqueName('e2e-units') })
  await client.connect()
  try {
    await client.subscribe(channel)
    await client.publish(channel, { text: 'u'.repeat(3000) })
    await logIn(page)

    await page.getByTestId('nav-connections').click()
    const headers = page.getByTestId('connections-table').locator('th')
    await expect(headers).toContainText(['Messages in', 'Messages out'])

    await page.goto(`/audit?channel=${channel}&kind=publish`)
    const size = page.getByTestId('audit-row').locator('td').nth(6)
    await expect(size).toHaveText(/^\d+(\.\d)? KB$/)
    await expect(size).toHaveAttribute('title', /^[\d,]+ bytes$/)

    // Since and Until are typed in the tables' convention, not a locale's 12-hour picker.
    const since = page.getByTestId('audit-filter-since')
    await expect(since).toHaveAttribute('type', 'text')
    await page.getByTestId('audit-filter-since-last-1h').click()
    await expect(since).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    await since.fill('2020-01-01 23:30')
    await page.getByTestId('audit-filter-until').fill('2020-01-02 13:05:09 UTC')
    await page.getByTestId('audit-apply').click()
    await expect(page).toHaveURL(/since=2020-01-01T23%3A30%3A00.000Z/)
    await expect(page).toHaveURL(/until=2020-01-02T13%3A05%3A09.000Z/)
    await expect(page.getByTestId('audit-filter-since')).toHaveValue('2020-01-01 23:30:00')
    await expect(page.getByTestId('audit-filter-until')).toHaveValue('2020-01-02 13:05:09')

    await page.getByTestId('audit-filter-since').fill('2020-01-01 11:30 PM')
    await page.getByTestId('audit-apply').click()
    await expect(page.getByTestId('audit-form-error')).toContainText('24-hour')
  } finally {
    await client.close()
  }
})
