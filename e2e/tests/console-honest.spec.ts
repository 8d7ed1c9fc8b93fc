import { PushClient } from '@parley/client'
import { expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { logIn, uniqueName } from '../helpers.js'

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

  test('the Agents page says a failure once though each of its sections met it, and counts no zero agents', async ({
    page,
  }) => {
    await logIn(page)
    await page.getByTestId('nav-agents').click()
    await expect(page.getByTestId('agents-count')).toContainText('agents on every node')

    await failGatewayCalls(page)
    // Every section has refreshed into the failure (each table says its data is stale)...
    for (const table of ['agents-table', 'agent-instances-table', 'a2a-agents-table', 'grants-table']) {
      await expect(page.getByTestId(`${table}-stale`)).toBeVisible()
    }
    // ...and the page says so once.
    await expect(page.getByTestId('gateway-error')).toHaveCount(1)
    await expect(page.getByTestId('gateway-error')).toContainText('connect ECONNREFUSED (test)')
    await expect(page.getByTestId('agents-count')).not.toContainText(/^0 agents/)
  })
})
