import { expect, type Page } from '@playwright/test'
import { E2E } from './e2e-env.js'

/** Logs in through the login form, as an operator would. */
export async function logIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.getByTestId('login-token-input').fill(E2E.adminToken)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(`${E2E.dashboardUrl}/`)
  await hydrated(page)
}

/**
 * Waits until React has hydrated the page (the dashboard marks `<html data-hydrated>`): text typed into a
 * controlled input before that is lost. After it, links navigate on the client and need no new wait.
 */
export async function hydrated(page: Page): Promise<void> {
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' })
}

/** A name no other test (or earlier run against the same gateway) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** A call to the gateway's admin API from the test process, with the suite's admin token. */
export async function adminApi(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${E2E.gatewayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${E2E.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: await response.json().catch(() => undefined) }
}

/**
 * Every dialog the page opens, dismissed and recorded: markup from the gateway must never run, so a test
 * expects this list to stay empty.
 */
export function recordDialogs(page: Page): string[] {
  const dialogs: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  return dialogs
}
