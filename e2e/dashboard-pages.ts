import { expect, type Page } from '@playwright/test'
import { hydrated } from './helpers.js'

/** Every page of the dashboard an operator reaches once logged in, with a name for reports and files. */
export const DASHBOARD_PAGES = [
  { name: 'overview', path: '/' },
  { name: 'connections', path: '/connections' },
  { name: 'presence', path: '/presence' },
  { name: 'channels', path: '/channels' },
  { name: 'nodes', path: '/nodes' },
  { name: 'agents', path: '/agents' },
  { name: 'conversation', path: '/agents/conversation?a=planner&b=summarizer' },
  { name: 'map', path: '/map' },
  { name: 'mcp', path: '/mcp' },
  { name: 'policies', path: '/policies' },
  { name: 'deliveries', path: '/deliveries' },
  { name: 'pairing', path: '/pairing' },
  { name: 'access', path: '/access' },
  { name: 'audit', path: '/audit' },
] as const

export type DashboardPage = (typeof DASHBOARD_PAGES)[number]

/**
 * Opens a page and waits until it has hydrated and its live data came in (nothing says "Loading…"), so a scan
 * or a screenshot sees the page an operator reads, not its skeleton.
 */
export async function openSettled(page: Page, path: string): Promise<void> {
  await page.goto(path)
  await hydrated(page)
  await expect(page.locator('main')).toBeVisible()
  await expect(page.getByText('Loading…')).toHaveCount(0)
}

/** How far the page reaches past the viewport sideways, in CSS pixels (0 when it fits). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
}
