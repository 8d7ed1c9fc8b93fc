import { type Browser, type BrowserContext, expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { logIn } from '../helpers.js'

/**
 * A browser of its own. Chromium reaches the dashboard from 127.0.0.1 like every other test browser, so
 * `address` stands in for where it is on the network: Next.js keeps the X-Forwarded-For a request brings,
 * the way a reverse proxy in front of the dashboard would set it.
 */
async function browserAt(
  browser: Browser,
  address: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': address } })
  return { context, page: await context.newPage() }
}

async function tryLogin(page: Page, token: string): Promise<void> {
  await page.goto('/login')
  await page.getByTestId('login-token-input').fill(token)
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/login\?error=/)
}

test('wrong logins from one browser lock out that browser only, with the time to wait, never a logged-in operator or another browser', async ({
  browser,
}) => {
  const operator = await browserAt(browser, '198.51.100.20')
  await logIn(operator.page)

  const guesser = await browserAt(browser, '198.51.100.21')
  for (let attempt = 0; attempt < E2E.authFailureLimit; attempt++) {
    await tryLogin(guesser.page, `wrong-token-${attempt}`)
    await expect(guesser.page.getByTestId('login-error')).toContainText('refused')
  }
  await tryLogin(guesser.page, 'one-more-wrong-token')
  await expect(guesser.page.getByTestId('login-error')).toContainText(
    /Too many failed logins.*Try again in \d+ s/,
  )

  // The logged-in operator works on.
  await operator.page.goto('/access')
  await expect(operator.page.getByTestId('access-page')).toBeVisible()
  await expect(operator.page.getByTestId('tokens-table')).toBeVisible()

  // Another operator logs in with the right token.
  const colleague = await browserAt(browser, '198.51.100.22')
  await logIn(colleague.page)
  await expect(colleague.page.getByTestId('logout-button')).toBeVisible()

  for (const party of [operator, guesser, colleague]) await party.context.close()
})

test('the session cookie is an opaque session, not the admin token, and logging out revokes it', async ({
  browser,
}) => {
  const operator = await browserAt(browser, '198.51.100.30')
  await logIn(operator.page)
  const [cookie] = (await operator.context.cookies()).filter((c) => c.name === 'parley_admin_session')
  expect(cookie?.value).toMatch(/^ps_[A-Za-z0-9_-]{43}$/)
  expect(cookie?.value).not.toContain(E2E.adminToken)
  expect(cookie?.httpOnly).toBe(true)

  // A copy of the cookie (a leaked one) works while the session lives...
  const thief = await browserAt(browser, '198.51.100.31')
  await thief.context.addCookies([{ ...(cookie as NonNullable<typeof cookie>) }])
  await thief.page.goto('/access')
  await expect(thief.page.getByTestId('access-page')).toBeVisible()

  // ...and not once the operator has logged out.
  await operator.page.getByTestId('logout-button').click()
  // The login page (the overview's live refresh may meet the ended session first and say so).
  await expect(operator.page).toHaveURL(/\/login(\?error=expired)?$/)
  await thief.page.goto('/access')
  await expect(thief.page).toHaveURL(/\/login/)

  for (const party of [operator, thief]) await party.context.close()
})

test('"log out everywhere" on the Access page ends the other sessions, which are listed there first', async ({
  browser,
}) => {
  const first = await browserAt(browser, '198.51.100.40')
  const second = await browserAt(browser, '198.51.100.41')
  await logIn(second.page)
  await logIn(first.page)

  await first.page.goto('/access')
  const rows = first.page.getByTestId('session-row')
  await expect(rows.filter({ hasText: '198.51.100.41' })).toHaveCount(1)
  const mine = rows.filter({ has: first.page.getByTestId('session-current') })
  await expect(mine).toHaveCount(1)
  await expect(mine).toContainText('198.51.100.40')

  await first.page.getByTestId('sessions-revoke-all').click()
  await first.page.getByTestId('sessions-revoke-all-confirm').click()
  await expect(first.page).toHaveURL(/\/login/)

  await second.page.goto('/access')
  await expect(second.page).toHaveURL(/\/login/)

  for (const party of [first, second]) await party.context.close()
})

test('pages carry a CSP whose script-src needs a per-response nonce, and still work with no CSP violation', async ({
  page,
}) => {
  const violations: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      violations.push(message.text())
    }
  })
  page.on('pageerror', (error) => violations.push(error.message))

  const login = await page.goto('/login')
  const loginPolicy = login?.headers()['content-security-policy'] ?? ''
  expect(loginPolicy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/)
  expect(loginPolicy).toContain("frame-ancestors 'none'")

  await logIn(page)
  const nonces = new Set<string>()
  for (const path of ['/', '/access', '/audit', '/agents', '/deliveries']) {
    const response = await page.goto(path)
    const policy = response?.headers()['content-security-policy'] ?? ''
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1]
    expect(nonce, path).toBeDefined()
    nonces.add(nonce as string)
    await expect(page.locator('main, section').first()).toBeVisible()
  }
  expect(nonces.size).toBe(5)

  // The page is hydrated (its scripts ran): a client-side control answers.
  await page.goto('/access')
  await page.getByTestId('sessions-revoke-all').click()
  await expect(page.getByTestId('sessions-revoke-all-cancel')).toBeVisible()
  await page.getByTestId('sessions-revoke-all-cancel').click()
  expect(violations).toEqual([])
})
