import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'

test('the API reference page renders the gateway OpenAPI document offline, asking nothing of any other host', async ({
  page,
}) => {
  // Every request that leaves the gateway is refused and recorded: the page must not need one.
  const elsewhere: string[] = []
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (url.startsWith(`${E2E.gatewayUrl}/`)) return route.continue()
    elsewhere.push(url)
    return route.abort()
  })
  await page.goto(`${E2E.gatewayUrl}/api/docs`)
  await expect(page.getByRole('heading', { name: 'Parley gateway HTTP API' }).first()).toBeVisible()
  // The sections and operations read from /api/openapi.json: a public one, then an admin one once opened.
  await expect(page.getByText('Liveness and basic counters').first()).toBeVisible()
  await expect(page.getByText('A2A', { exact: true }).first()).toBeVisible()
  await page.getByText('Admin: agents and access', { exact: true }).first().click()
  await expect(page.getByText('Create an API token').first()).toBeVisible()
  expect(elsewhere).toEqual([])
})
