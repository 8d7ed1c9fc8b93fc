import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { DASHBOARD_PAGES, openSettled } from '../dashboard-pages.js'
import { E2E } from '../e2e-env.js'
import { hydrated, logIn } from '../helpers.js'
import { createTraffic } from './traffic.js'

const OUTPUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const WIDTHS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
] as const

test('every page at 1440 px and 390 px, light and dark, into docs/screenshots', async ({ browser }) => {
  mkdirSync(OUTPUT, { recursive: true })
  const traffic = await createTraffic()
  try {
    // The dead letters are in once the mobile app refused the last retry.
    await expect
      .poll(async () => {
        const response = await fetch(`${E2E.gatewayUrl}/api/admin/deliveries`, {
          headers: { authorization: `Bearer ${E2E.adminToken}` },
        })
        return ((await response.json()) as { deadLetters: number }).deadLetters
      })
      .toBe(2)

    for (const viewport of WIDTHS) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const context = await browser.newContext({ viewport, colorScheme, baseURL: E2E.dashboardUrl })
        const page = await context.newPage()
        const file = (name: string) => `${OUTPUT}${name}-${viewport.width}-${colorScheme}.png`
        await page.goto('/login')
        await hydrated(page)
        await page.screenshot({ path: file('login'), fullPage: true, animations: 'disabled' })
        await logIn(page)
        for (const { name, path } of DASHBOARD_PAGES) {
          await openSettled(page, path)
          await page.screenshot({ path: file(name), fullPage: true, animations: 'disabled', caret: 'hide' })
          // The pages with data in them get an axe-core scan too; the screenshots are written either way.
          const { violations } = await new AxeBuilder({ page }).analyze()
          expect.soft(violations.map((violation) => `${name}: ${violation.id}`)).toEqual([])
        }
        if (viewport.width < 1200) {
          // The folded navigation, opened.
          await page.getByTestId('menu-button').click()
          await page.screenshot({ path: file('menu'), animations: 'disabled' })
        }
        await context.close()
      }
    }
  } finally {
    await Promise.all(traffic.map((client) => client.close()))
  }
})
