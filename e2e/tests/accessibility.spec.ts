import AxeBuilder from '@axe-core/playwright'
import { expect, type Locator, type Page, test } from '@playwright/test'
import { DASHBOARD_PAGES, openSettled } from '../dashboard-pages.js'
import { E2E } from '../e2e-env.js'
import { hydrated, logIn, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

/** axe-core's findings on the page as it stands, one line each, so a failure says what and where. */
async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')} — ${node.failureSummary ?? ''}`),
  )
}

/** Whether the focused element draws a focus indicator (an outline or a ring), read from its computed style. */
function focusIsVisible(page: Page): Promise<{ tag: string; visible: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement
    if (element === null || element === document.body) return { tag: 'body', visible: false }
    const style = getComputedStyle(element)
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0
    const ring = style.boxShadow !== 'none'
    return {
      tag: `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}`,
      visible: outline || ring,
    }
  })
}

/** Presses a key (Tab, Shift+Tab) until the target has focus, at most `limit` times; whether it got there. */
async function pressUntilFocused(page: Page, key: string, target: Locator, limit = 40): Promise<boolean> {
  for (let step = 0; step < limit; step++) {
    await page.keyboard.press(key)
    if (await target.evaluate((element) => element === document.activeElement)) return true
  }
  return false
}

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`axe-core, ${colorScheme} theme`, () => {
    test.use({ colorScheme })

    test(`the login page has no accessibility violations (${colorScheme})`, async ({ page }) => {
      await page.goto('/login')
      await hydrated(page)
      expect(await axeViolations(page)).toEqual([])
    })

    for (const width of [1280, 390]) {
      test(`every dashboard page at ${width} px has no accessibility violations (${colorScheme})`, async ({
        page,
      }) => {
        await page.setViewportSize({ width, height: 844 })
        await logIn(page)
        const found: string[] = []
        for (const { path } of DASHBOARD_PAGES) {
          await openSettled(page, path)
          for (const violation of await axeViolations(page)) found.push(`${path} ${violation}`)
        }
        expect(found).toEqual([])
      })
    }

    test(`the opened phone menu and the admin approval dialog have no accessibility violations (${colorScheme})`, async ({
      page,
    }) => {
      const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
        name: uniqueName('e2e-axe-device'),
      })
      try {
        await page.setViewportSize({ width: 390, height: 844 })
        await logIn(page)
        await page.getByTestId('menu-button').click()
        await expect(page.getByTestId('logout-button')).toBeVisible()
        expect(await axeViolations(page)).toEqual([])

        await page.getByTestId('nav-pairing').click()
        const row = page.locator(`[data-testid="device-request-row"][data-request-id="${requestId}"]`)
        await row.getByTestId('device-approve-role').selectOption('admin')
        await row.getByTestId('device-approve').click()
        await expect(page.getByRole('dialog')).toBeVisible()
        expect(await axeViolations(page)).toEqual([])
        await page.keyboard.press('Escape')
      } finally {
        await device.close()
      }
    })
  })
}

test('the dark theme follows the system setting', async ({ browser }) => {
  const backgrounds: Record<string, string> = {}
  for (const colorScheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme })
    const page = await context.newPage()
    await page.goto('/login')
    backgrounds[colorScheme] = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await context.close()
  }
  expect(backgrounds.light).toBe('rgb(246, 247, 249)')
  expect(backgrounds.dark).toBe('rgb(17, 21, 28)')
})

test('on every page the keyboard reaches the controls in order with a visible focus', async ({ page }) => {
  await logIn(page)
  const unseen: string[] = []
  for (const { path } of DASHBOARD_PAGES) {
    await openSettled(page, path)
    // The first stops: the navigation, Log out and the page's own first controls.
    for (let step = 0; step < 16; step++) {
      await page.keyboard.press('Tab')
      const focus = await focusIsVisible(page)
      // Past the page's last control focus leaves the document: the end of a short page, not a lost focus.
      if (focus.tag === 'body' && step > 0) break
      if (!focus.visible) unseen.push(`${path} tab ${step + 1}: ${focus.tag}`)
    }
  }
  expect(unseen).toEqual([])
})

test('with the keyboard alone an operator opens the menu at phone width, follows a link and logs out', async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await logIn(page)
  const menu = page.getByTestId('menu-button')
  // Tab from the top of the page: the brand is text, so the menu button is the first stop.
  await page.keyboard.press('Tab')
  await expect(menu).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(menu).toHaveAttribute('aria-expanded', 'true')
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('nav-overview')).toBeFocused()
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('nav-connections')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/connections$/)
  await expect(menu).toHaveAttribute('aria-expanded', 'false')

  expect(await pressUntilFocused(page, 'Shift+Tab', menu)).toBe(true)
  await page.keyboard.press('Enter')
  const logout = page.getByTestId('logout-button')
  expect(await pressUntilFocused(page, 'Tab', logout)).toBe(true)
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/login$/)
})
