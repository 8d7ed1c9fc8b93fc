import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, recordDialogs, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

test('the Presence page shows a client live with its status, follows a change and drops it when it leaves', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const clientId = uniqueName('e2e-presence')
  const client = await RawParleyClient.connect(E2E.wsUrl, clientId)
  try {
    await logIn(page)
    await page.getByTestId('nav-presence').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/presence`)
    const row = page.locator(`[data-testid="presence-row"][data-client-id="${clientId}"]`)

    const set = await client.request({
      type: 'presence_set',
      status: 'busy',
      metadata: { task: 'summarising', note: '<img src=x onerror=alert(1)>' },
    })
    expect(set).toMatchObject({ status: 'busy' })
    await expect(row.getByTestId('presence-status')).toHaveText('busy')
    await expect(row.getByTestId('presence-metadata')).toHaveText(
      'task=summarising note=<img src=x onerror=alert(1)>',
    )
    await expect(row.getByTestId('presence-connections')).toHaveText('1')
    await expect(row.getByTestId('presence-client-id')).toHaveText(clientId)
    await expect(row.locator('img')).toHaveCount(0)

    // The filter narrows the table to this client (other tests' clients may still be listed).
    await page.getByTestId('presence-filter').fill(clientId)
    await expect(page.getByTestId('presence-row')).toHaveCount(1)
    await expect(row).toBeVisible()

    // Changes arrive by polling, not by a reload: a mark left on the window must survive them.
    await page.evaluate(() => {
      ;(window as unknown as { presenceMark: string }).presenceMark = 'no reload'
    })
    await client.request({ type: 'presence_set', status: 'away' })
    await expect(row.getByTestId('presence-status')).toHaveText('away')
    expect(await page.evaluate(() => (window as unknown as { presenceMark?: string }).presenceMark)).toBe(
      'no reload',
    )

    await client.close()
    await expect(row).toHaveCount(0)
    await expect(page.getByTestId('presence-table-empty')).toHaveText('No online client matches the filter.')
    expect(await page.evaluate(() => (window as unknown as { presenceMark?: string }).presenceMark)).toBe(
      'no reload',
    )
    expect(dialogs).toEqual([])
  } finally {
    await client.close()
  }
})

test('the Nodes page shows this node with bus state local and its connection count', async ({ page }) => {
  const socket = await RawParleyClient.open(E2E.wsUrl)
  const welcome = await socket.hello({ clientId: uniqueName('e2e-node') })
  expect(welcome.type).toBe('welcome')
  let second: RawParleyClient | undefined
  try {
    await logIn(page)
    await page.getByTestId('nav-nodes').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/nodes`)

    const self = page.locator('[data-testid="node-row"][data-self="true"]')
    await expect(self).toHaveCount(1)
    await expect(self.getByTestId('node-self')).toHaveText('this node')
    // The node the answer came from is the one serving this client (one node in this suite).
    expect(typeof welcome.node).toBe('string')
    await expect(self.getByTestId('node-id')).toHaveText(String(welcome.node))
    await expect(self.getByTestId('node-bus')).toHaveText('local')
    await expect(page.getByTestId('nodes-degraded-warning')).toHaveCount(0)

    // The node's count is the gateway's own: the same number the connection list has, live.
    const shownMatchesGateway = async (): Promise<number | null> => {
      const listed = await adminApi('GET', '/api/admin/connections')
      const count = (listed.body as { connections: unknown[] }).connections.length
      const shown = await self.getByTestId('node-connections').textContent()
      return shown === String(count) ? count : null
    }
    let before: number | null = null
    await expect
      .poll(async () => {
        before = await shownMatchesGateway()
        return before
      })
      .toBeGreaterThanOrEqual(1)
    second = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-node'))
    await expect(self.getByTestId('node-connections')).toHaveText(String((before ?? 0) + 1))
  } finally {
    await second?.close()
    await socket.close()
  }
})
