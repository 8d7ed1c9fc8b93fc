import { PushClient } from '@parley/client'
import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { logIn, uniqueName } from '../helpers.js'

test('an operator sees a connected client live and finds its publish in the audit', async ({ page }) => {
  const clientId = uniqueName('e2e-client')
  const channel = uniqueName('e2e.audit')
  const client = new PushClient(E2E.wsUrl, { clientId })
  await client.connect()
  try {
    await logIn(page)
    await expect(page.getByTestId('health-status')).toContainText('ok')

    await page.getByTestId('nav-connections').click()
    await expect(page.getByTestId('connection-row').filter({ hasText: clientId })).toBeVisible()

    await client.subscribe(channel)
    const published = await client.publish(channel, { text: 'seen by the audit' })
    expect(published.delivered).toBe(1)

    await page.getByTestId('nav-channels').click()
    await expect(page.getByTestId('channels-table')).toContainText(channel)

    await page.getByTestId('nav-audit').click()
    await page.getByTestId('audit-filter-channel').fill(channel)
    await page.getByTestId('audit-apply').click()
    await expect(page).toHaveURL(/channel=/)
    // Narrowed to this channel: other tests' audit rows (say a token with a publish scope) stay out of it.
    const publishRow = page
      .getByTestId('audit-row')
      .filter({ hasText: 'publish' })
      .filter({ hasText: channel })
    await expect(publishRow).toBeVisible()
    await expect(publishRow).toContainText(clientId)
    await expect(publishRow).toContainText(channel)
  } finally {
    await client.close()
  }
})

test('a wrong admin token is refused and the pages stay locked', async ({ page }) => {
  await page.goto('/login')
  await page.getByTestId('login-token-input').fill('not-the-admin-token')
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/login/)
  await page.goto('/audit')
  await expect(page).toHaveURL(/\/login/)
})

test('the login link printed at first start logs the operator in and leaves no token in the address bar', async ({
  page,
}) => {
  await page.goto(`/login#token=${E2E.adminToken}`)
  await expect(page).toHaveURL(`${E2E.dashboardUrl}/`)
  expect(page.url()).not.toContain(E2E.adminToken)
})
