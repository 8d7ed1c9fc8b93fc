import { generateIdentity } from '@parley/client'
import { expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { logIn, recordDialogs, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

const MARKUP = '<img src=x onerror=alert(1)>'

async function openAccessPage(page: Page): Promise<void> {
  await logIn(page)
  await page.getByTestId('nav-access').click()
  await expect(page.getByTestId('access-page')).toBeVisible()
}

test('a token created on the Access page shows its secret once, connects, and revoking it closes the connection with 4001', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: E2E.dashboardUrl })
  const name = `${uniqueName('e2e-token')} ${MARKUP}`
  await openAccessPage(page)

  await page.getByTestId('token-create-name').fill(name)
  await page.getByTestId('token-create-role').selectOption('client')
  await page.getByTestId('token-create-scopes').fill('subscribe:* send:e2e-*')
  await page.getByTestId('token-create-expiry').selectOption('1d')
  await page.getByTestId('token-create-submit').click()

  const panel = page.getByTestId('token-secret')
  await expect(panel).toContainText('you will not see it again')
  await expect(panel.getByTestId('token-secret-name')).toHaveText(name)
  const secret = (await panel.getByTestId('token-secret-value').textContent()) ?? ''
  expect(secret.length).toBeGreaterThan(15)
  await panel.getByTestId('token-secret-copy').click()
  await expect(panel.getByTestId('token-secret-copy')).toHaveText('Copied')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)

  const row = page.getByTestId('token-row').filter({ hasText: name })
  await expect(row).toHaveCount(1)
  await expect(row.getByTestId('token-name')).toContainText(name)
  await expect(row).toContainText('subscribe:* send:e2e-*')
  await expect(row.getByTestId('token-status')).toHaveText('active')
  await expect(page.locator('img[src="x"]')).toHaveCount(0)

  // The secret is gone for good once the page is reloaded: only its hash is kept.
  await page.reload()
  await expect(row).toHaveCount(1)
  await expect(page.getByTestId('token-secret')).toHaveCount(0)
  await expect(page.locator('body')).not.toContainText(secret)

  const client = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-token-client'), secret)
  try {
    await row.getByTestId('token-revoke').click()
    await row.getByTestId('token-revoke-confirm').click()
    expect((await client.closed).code).toBe(4001)
    await expect(page.getByTestId('access-action-result')).toContainText('Revoked')
    await expect(row.getByTestId('token-status')).toHaveText('revoked')
    await expect(row.getByTestId('token-revoke')).toHaveCount(0)

    // A revoked token does not get back in.
    const retry = await RawParleyClient.open(E2E.wsUrl)
    expect(await retry.hello({ auth: { token: secret } })).toMatchObject({
      type: 'error',
      code: 'unauthorized',
    })
    await retry.close()
    expect(dialogs).toEqual([])
  } finally {
    await client.close()
  }
})

test('the create form names a wrong field before anything is sent', async ({ page }) => {
  await openAccessPage(page)
  await page.getByTestId('token-create-name').fill('scoped')
  await page.getByTestId('token-create-scopes').fill('ab')
  await page.getByTestId('token-create-submit').click()
  await expect(page.getByTestId('token-create-error')).toContainText('scopes')
  await expect(page.getByTestId('token-secret')).toHaveCount(0)
})

test('an agent key registered on the Access page lets the agent answer the challenge; revoking it closes the agent with 4001', async ({
  page,
}) => {
  const identity = await generateIdentity()
  const name = `${uniqueName('e2e-agent')} ${MARKUP}`
  await openAccessPage(page)

  await page.getByTestId('agent-key-id').fill(identity.id)
  await page.getByTestId('agent-key-public-key').fill(identity.publicKey)
  await page.getByTestId('agent-key-name').fill(name)
  await page.getByTestId('agent-key-submit').click()
  await expect(page.getByTestId('access-action-result')).toContainText(identity.id)

  const row = page.locator(`[data-testid="agent-key-row"][data-agent-key-id="${identity.id}"]`)
  await expect(row.getByTestId('agent-key-name-cell')).toHaveText(name)
  await expect(row).toContainText('agent')
  await expect(row.getByTestId('agent-key-status')).toHaveText('active')
  await expect(page.locator('img[src="x"]')).toHaveCount(0)

  const agent = await RawParleyClient.connectAsAgent(E2E.wsUrl, identity)
  try {
    await row.getByTestId('agent-key-revoke').click()
    await row.getByTestId('agent-key-revoke-confirm').click()
    expect((await agent.closed).code).toBe(4001)
    await expect(row.getByTestId('agent-key-status')).toHaveText('revoked')
  } finally {
    await agent.close()
  }
})
