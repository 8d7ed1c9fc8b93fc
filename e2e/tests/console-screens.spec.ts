import { expect, type Page, test } from '@playwright/test'
import { DASHBOARD_PAGES, horizontalOverflow, openSettled } from '../dashboard-pages.js'
import { E2E } from '../e2e-env.js'
import { hydrated, logIn, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

const PHONE = { width: 390, height: 844 }

function deviceRow(page: Page, requestId: string) {
  return page.locator(`[data-testid="device-request-row"][data-request-id="${requestId}"]`)
}

/** The number a navigation badge shows; 0 when there is no badge. */
async function badgeCount(page: Page, testId: string): Promise<number> {
  const badge = page.getByTestId(testId)
  if ((await badge.count()) === 0) return 0
  return Number(await badge.getAttribute('data-count'))
}

/** A recipient that refuses every delivery, so what is sent to it is dead-lettered after the retries. */
async function refusingRecipient(): Promise<{ client: RawParleyClient; id: string }> {
  const id = uniqueName('e2e-refuser')
  const client = await RawParleyClient.connect(E2E.wsUrl, id)
  client.onDirectMessage((message) => {
    client.post({ type: 'nack', deliveryId: message.deliveryId, reason: 'refused' })
  })
  return { client, id }
}

test('approving a device as admin asks first in a dialog naming the role and scopes; Escape cancels, confirm approves', async ({
  page,
}) => {
  const deviceName = uniqueName('e2e-admin-laptop')
  const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: deviceName,
  })
  try {
    await logIn(page)
    await page.getByTestId('nav-pairing').click()
    const row = deviceRow(page, requestId)
    await row.getByTestId('device-approve-role').selectOption('admin')
    await row.getByTestId('device-approve-scopes').fill('publish:* subscribe:*')
    const approve = row.getByTestId('device-approve')
    await approve.click()

    const dialog = page.getByRole('dialog', { name: `Approve "${deviceName}" as admin?` })
    await expect(dialog).toBeVisible()
    await expect(dialog.getByTestId('device-approve-dialog-role')).toHaveText('admin')
    await expect(dialog.getByTestId('device-approve-dialog-scopes')).toHaveText('publish:* subscribe:*')
    // Focus starts on Cancel and Tab keeps it inside the dialog.
    await expect(dialog.getByTestId('device-approve-dialog-cancel')).toBeFocused()
    for (let step = 0; step < 4; step++) {
      await page.keyboard.press('Tab')
      expect(await dialog.evaluate((element) => element.contains(document.activeElement))).toBe(true)
    }
    // Escape cancels: nothing approved, the request still waits, focus is back on Approve.
    await page.keyboard.press('Escape')
    await expect(dialog).toBeHidden()
    await expect(approve).toBeFocused()
    await expect(row).toBeVisible()

    const approved = device.waitFor((frame) => frame.type === 'pairing_approved')
    await approve.click()
    await dialog.getByTestId('device-approve-dialog-confirm').click()
    await expect(page.getByTestId('pairing-action-result')).toContainText('Approved')
    expect((await approved).type).toBe('pairing_approved')
    await expect(row).toHaveCount(0)
  } finally {
    await device.close()
  }
})

test('the navigation counts pairings waiting and dead letters added since the operator last opened Deliveries', async ({
  page,
}) => {
  await logIn(page)
  // Looking at Deliveries sets the baseline: no badge while there.
  await page.getByTestId('nav-deliveries').click()
  await expect(page.getByTestId('deliveries-page')).toBeVisible()
  await expect(page.getByTestId('nav-badge-deliveries')).toHaveCount(0)
  await page.getByTestId('nav-overview').click()

  const waitingBefore = await badgeCount(page, 'nav-badge-pairing')
  const { client: device } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: uniqueName('e2e-badge-device'),
  })
  const recipient = await refusingRecipient()
  const sender = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-badge-sender'))
  try {
    await expect.poll(() => badgeCount(page, 'nav-badge-pairing')).toBe(waitingBefore + 1)
    await expect(page.getByTestId('nav-badge-pairing')).toContainText('waiting for approval')

    await sender.request({ type: 'send', to: recipient.id, data: { n: 1 } })
    await sender.request({ type: 'send', to: recipient.id, data: { n: 2 } })
    await expect.poll(() => badgeCount(page, 'nav-badge-deliveries')).toBe(2)
    await expect(page.getByTestId('nav-badge-deliveries')).toContainText('new dead letters')

    // Opening Deliveries clears it; it stays clear on the next page.
    await page.getByTestId('nav-deliveries').click()
    await expect(page.getByTestId('nav-badge-deliveries')).toHaveCount(0)
    await page.getByTestId('nav-overview').click()
    await expect(page.getByTestId('health-card')).toBeVisible()
    await expect(page.getByTestId('nav-badge-deliveries')).toHaveCount(0)
  } finally {
    await Promise.all([device.close(), recipient.client.close(), sender.close()])
  }
})

test.describe('at phone width (390 px)', () => {
  test.use({ viewport: PHONE })

  test('no page is wider than the viewport', async ({ page }) => {
    await page.goto('/login')
    await hydrated(page)
    expect(await horizontalOverflow(page), '/login').toBe(0)
    await logIn(page)
    for (const { path } of DASHBOARD_PAGES) {
      await openSettled(page, path)
      expect(await horizontalOverflow(page), path).toBe(0)
    }
  })

  test('the navigation folds behind a Menu button that opens with the keyboard and shows Log out', async ({
    page,
  }) => {
    await logIn(page)
    const menu = page.getByTestId('menu-button')
    const logout = page.getByTestId('logout-button')
    await expect(menu).toHaveAttribute('aria-expanded', 'false')
    await expect(logout).toBeHidden()

    await menu.focus()
    await page.keyboard.press('Enter')
    await expect(menu).toHaveAttribute('aria-expanded', 'true')
    await expect(logout).toBeInViewport({ ratio: 1 })
    await expect(page.getByTestId('nav-audit')).toBeInViewport({ ratio: 1 })

    await page.keyboard.press('Escape')
    await expect(menu).toHaveAttribute('aria-expanded', 'false')
    await expect(menu).toBeFocused()
    await expect(logout).toBeHidden()

    // Following a link closes the menu.
    await menu.click()
    await page.getByTestId('nav-pairing').click()
    await expect(page.getByTestId('pairing-page')).toBeVisible()
    await expect(menu).toHaveAttribute('aria-expanded', 'false')
    expect(await horizontalOverflow(page)).toBe(0)
  })

  test('Approve of a waiting device is on screen without scrolling the table sideways', async ({ page }) => {
    const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
      name: uniqueName('e2e-phone-device'),
    })
    try {
      await logIn(page)
      await openSettled(page, '/pairing')
      const row = deviceRow(page, requestId)
      // Down to the row, never sideways: the page scrolls, the table stays as it opened.
      await row.evaluate((element) =>
        window.scrollTo(0, element.getBoundingClientRect().top + window.scrollY - 200),
      )
      await expect(row.getByTestId('device-approve')).toBeInViewport({ ratio: 1 })
      await expect(row.getByTestId('device-deny')).toBeInViewport({ ratio: 1 })
      const scrolledSideways = await row.evaluate(
        (element) => element.closest('.table-wrap')?.scrollLeft ?? Number.NaN,
      )
      expect(scrolledSideways).toBe(0)
    } finally {
      await device.close()
    }
  })
})
