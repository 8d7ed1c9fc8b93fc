import { expect, type Page } from '@playwright/test'
import { E2E } from './e2e-env.js'

/** Logs in through the login form, as an operator would. */
export async function logIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.getByTestId('login-token-input').fill(E2E.adminToken)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(`${E2E.dashboardUrl}/`)
}

/** A name no other test (or earlier run against the same gateway) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}
