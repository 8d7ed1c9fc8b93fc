import AxeBuilder from '@axe-core/playwright'
import { AgentClient, PushClient } from '@parley/client'
import { expect, type Locator, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, hydrated, logIn, uniqueName } from '../helpers.js'

/**
 * The live charts of issue 18: the Overview's figures, an agent's page and a channel's page, and the audit
 * badge. Charts are read through their captions (their text alternative), whose `data-value` holds each
 * figure's latest value: the test asserts numbers, not pixels.
 */

/** Runs `step` over and over until stopped: steady traffic while a test watches the charts move. */
function keepRunning(step: () => Promise<unknown>): { stop: () => Promise<void> } {
  let running = true
  const loop = (async () => {
    while (running) {
      await step()
      // Paced so a second holds a few steps, not thousands.
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
    },
  }
}

/** The latest value a chart's caption gives for a metric (NaN while it has none). */
async function latest(scope: Locator | Page, chart: string, metric: string): Promise<number> {
  const text = await scope.getByTestId(`${chart}-latest-${metric}`).getAttribute('data-value')
  return text === null || text === '' ? Number.NaN : Number(text)
}

/** axe-core's findings on the page with its charts drawn, in the light and the dark theme. */
async function axeViolations(page: Page): Promise<string[]> {
  const found: string[] = []
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    const results = await new AxeBuilder({ page }).analyze()
    for (const violation of results.violations) {
      for (const node of violation.nodes)
        found.push(`${colorScheme} ${violation.id}: ${node.target.join(' ')}`)
    }
  }
  return found
}

/** An agent answering `capability` (named after it), with metadata to show on its page. */
async function echoAgent(capability: string): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, {
    agentId: capability,
    capabilities: [capability],
    metadata: { model: 'e2e-small' },
  })
  agent.handle(async (data) => ({ echo: data }))
  await agent.connect()
  return agent
}

test('the Overview charts move while traffic flows: publications, deliveries, connections and agent requests', async ({
  page,
}) => {
  const channel = uniqueName('e2e-charts')
  const subscriber = new PushClient(E2E.wsUrl)
  const publisher = new PushClient(E2E.wsUrl)
  const answering = await echoAgent(uniqueName('e2e-chart-agent'))
  const calling = new AgentClient(E2E.wsUrl, { agentId: uniqueName('e2e-chart-caller'), capabilities: [] })
  await Promise.all([subscriber.connect(), publisher.connect(), calling.connect()])
  await subscriber.subscribe(channel)
  await logIn(page)
  const charts = page.getByTestId('overview-charts')
  await expect(charts.getByTestId('chart-messages')).toBeVisible()
  // No traffic of this test yet: the last second's figures are what other tests left, most likely none.
  const before = {
    published: (await latest(charts, 'chart-messages', 'published')) || 0,
    requests: (await latest(charts, 'chart-requests', 'agentRequests')) || 0,
  }
  const traffic = keepRunning(() =>
    Promise.all([
      publisher.publish(channel, { at: Date.now() }),
      calling.request({ capability: answering.agentId }, { ping: true }),
    ]),
  )
  try {
    await expect.poll(() => latest(charts, 'chart-messages', 'published')).toBeGreaterThan(before.published)
    await expect.poll(() => latest(charts, 'chart-messages', 'delivered')).toBeGreaterThan(0)
    await expect
      .poll(() => latest(charts, 'chart-requests', 'agentRequests'))
      .toBeGreaterThan(before.requests)
    await expect.poll(() => latest(charts, 'chart-latency', 'latencyP50')).toBeGreaterThan(0)
    // Four connections of this test at least (two clients, two agents), and the dashboard's own none.
    await expect.poll(() => latest(charts, 'chart-connections', 'connections')).toBeGreaterThanOrEqual(4)
    // The caption is the chart's text alternative: it names the figure and its value.
    await expect(charts.getByTestId('chart-messages')).toHaveAccessibleName(
      /Messages per second, latest: published/,
    )
    // One node here: its own series are the total's.
    await charts.getByTestId('overview-charts-node').selectOption({ index: 1 })
    await expect.poll(() => latest(charts, 'chart-messages', 'published')).toBeGreaterThan(0)
    expect(await axeViolations(page)).toEqual([])
  } finally {
    await traffic.stop()
    await Promise.all([subscriber.close(), publisher.close(), calling.close(), answering.close()])
  }
})

test('an agent page shows its instances, metadata, request figures over time and top callers', async ({
  page,
}) => {
  const answering = await echoAgent(uniqueName('e2e-agent-page'))
  const calling = new AgentClient(E2E.wsUrl, { agentId: uniqueName('e2e-agent-caller'), capabilities: [] })
  await calling.connect()
  const traffic = keepRunning(() => calling.request({ capability: answering.agentId }, { n: 1 }))
  try {
    await logIn(page)
    await page.getByTestId('nav-agents').click()
    await page
      .locator(`[data-testid="agent-row"][data-agent-id="${answering.agentId}"]`)
      .getByTestId('agent-link')
      .click()
    const agentPage = page.getByTestId('agent-page')
    await expect(agentPage).toHaveAttribute('data-agent-id', answering.agentId)
    await hydrated(page)
    await expect(page.getByTestId('agent-page-instances')).toHaveText('1')
    await expect(
      page
        .getByTestId('agent-page-instance-row')
        .getByTestId('instance-metadata-entry')
        .filter({ hasText: 'e2e-small' }),
    ).toBeVisible()
    const charts = page.getByTestId('agent-charts')
    await expect.poll(() => latest(charts, 'chart-requests', 'agentRequests')).toBeGreaterThan(0)
    await expect.poll(() => latest(charts, 'chart-latency', 'latencyP95')).toBeGreaterThan(0)
    const caller = page.locator(`[data-testid="top-caller-row"][data-caller="${calling.agentId}"]`)
    await expect
      .poll(async () => Number(await caller.getByTestId('top-caller-requests').textContent()))
      .toBeGreaterThan(1)
    expect(await axeViolations(page)).toEqual([])
  } finally {
    await traffic.stop()
    await Promise.all([calling.close(), answering.close()])
  }
})

test('a channel page shows its subscribers, durable ones included, its publications over time and the latest of them', async ({
  page,
}) => {
  const channel = uniqueName('e2e-channel-page')
  const live = new PushClient(E2E.wsUrl)
  const durable = new PushClient(E2E.wsUrl, { clientId: uniqueName('e2e-durable') })
  const publisher = new PushClient(E2E.wsUrl)
  await Promise.all([live.connect(), durable.connect(), publisher.connect()])
  await live.subscribe(channel)
  await durable.subscribe(channel, { durable: true })
  const traffic = keepRunning(() => publisher.publish(channel, { at: Date.now() }))
  try {
    await logIn(page)
    await page.getByTestId('nav-channels').click()
    await page
      .locator(`[data-testid="channel-row"][data-channel="${channel}"]`)
      .getByTestId('channel-link')
      .click()
    await expect(page.getByTestId('channel-page')).toHaveAttribute('data-channel', channel)
    await hydrated(page)
    // The live subscriber and the durable one; the durable one is also counted apart.
    await expect(page.getByTestId('channel-page-subscribers')).toHaveText('2')
    await expect(page.getByTestId('channel-page-durable')).toHaveText('1')
    const charts = page.getByTestId('channel-charts')
    await expect.poll(() => latest(charts, 'chart-channel-messages', 'published')).toBeGreaterThan(0)
    await expect
      .poll(() => latest(charts, 'chart-channel-subscribers', 'subscribers'))
      .toBeGreaterThanOrEqual(1)
    await expect(page.getByTestId('channel-recent-messages').getByRole('row').nth(1)).toContainText('publish')
    expect(await axeViolations(page)).toEqual([])
  } finally {
    await traffic.stop()
    await Promise.all([live.close(), durable.close(), publisher.close()])
  }
})

test('the Audit page says "verified up to checkpoint N" once a checkpoint is written', async ({ page }) => {
  // A publication appends an audit row; the gateway signs a checkpoint within its interval (1 s here).
  const publisher = new PushClient(E2E.wsUrl)
  await publisher.connect()
  await publisher.publish(uniqueName('e2e-audit-checkpoint'), { n: 1 })
  await publisher.close()
  await expect
    .poll(async () => {
      const { body } = await adminApi('GET', '/api/admin/audit/verification')
      return (body as { checkpoint: { seq: string } | null }).checkpoint?.seq ?? null
    })
    .not.toBeNull()
  await logIn(page)
  await page.getByTestId('nav-audit').click()
  const badge = page.getByTestId('audit-verification-badge')
  await expect(badge).toHaveText(/^Verified up to checkpoint \d+$/)
  await expect(page.getByTestId('audit-verification')).toHaveAttribute('data-state', 'verified')
  const shown = Number((await badge.textContent())?.replace(/\D+/g, ''))
  const { body } = await adminApi('GET', '/api/admin/audit/verification')
  expect(Number((body as { checkpoint: { seq: string } }).checkpoint.seq)).toBeGreaterThanOrEqual(shown)
})
