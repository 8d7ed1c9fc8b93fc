import AxeBuilder from '@axe-core/playwright'
import { AgentClient } from '@parley/client'
import { expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { hydrated, logIn, uniqueName } from '../helpers.js'

/** An agent answering every request with a greeting and the data it got (so the reply holds the password too). */
async function answeringAgent(agentId: string): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, { agentId, capabilities: ['greet'] })
  agent.handle(async (data) => ({ greeting: 'hello', got: data }))
  await agent.connect()
  return agent
}

async function callingAgent(agentId: string): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, { agentId, capabilities: [] })
  await agent.connect()
  return agent
}

async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')} — ${node.failureSummary ?? ''}`),
  )
}

test('the map shows an edge between two agents that exchanged requests, and clicking it opens their conversation', async ({
  page,
}) => {
  const plannerId = uniqueName('e2e-map-planner')
  const workerId = uniqueName('e2e-map-worker')
  const worker = await answeringAgent(workerId)
  const planner = await callingAgent(plannerId)
  try {
    for (let index = 0; index < 3; index += 1) await planner.request(workerId, { index })
    await logIn(page)
    await page.goto('/map')
    await hydrated(page)
    await page.getByTestId('map-window-5m').check()
    const edge = page.locator(
      `[data-testid="agent-map"] [data-testid="map-edge-link"][data-edge="agent:${plannerId}->agent:${workerId}"]`,
    )
    await expect(edge).toHaveText('3')
    await expect(edge).toHaveAttribute('data-health', 'ok')
    await expect(edge).toHaveAccessibleName(
      `${plannerId} to ${workerId}: 3 messages, no errors: open the conversation`,
    )
    await expect(
      page.locator(`[data-testid="agent-map-edge-row"][data-edge="agent:${plannerId}->agent:${workerId}"]`),
    ).toBeVisible()
    // Reachable from the keyboard: it is a link, focused and followed with Enter.
    await edge.focus()
    await expect(edge).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(page).toHaveURL(new RegExp(`/agents/conversation\\?a=${plannerId}&b=${workerId}$`))
    await expect(page.getByTestId('conversation-title')).toHaveText(`${plannerId} ↔ ${workerId}`)
    await expect(page.locator('[data-testid="conversation-row"]')).toHaveCount(6)

    // The edge itself (not only its count) is a click target.
    await page.goto('/map')
    await hydrated(page)
    await page.getByTestId('map-window-5m').check()
    await expect(edge).toHaveText('3')
    await page
      .locator(`.react-flow__edge[data-id="agent:${plannerId}->agent:${workerId}"] path`)
      .first()
      .click({ force: true })
    await expect(page).toHaveURL(new RegExp(`/agents/conversation\\?a=${plannerId}&b=${workerId}$`))
  } finally {
    await planner.close()
    await worker.close()
  }
})

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`the map in the ${colorScheme} theme`, () => {
    test.use({ colorScheme })
    test(`the map with edges has no accessibility violations (${colorScheme})`, async ({ page }) => {
      const workerId = uniqueName('e2e-map-axe-worker')
      const worker = await answeringAgent(workerId)
      const planner = await callingAgent(uniqueName('e2e-map-axe-planner'))
      try {
        await planner.request(workerId, { ping: true })
        await logIn(page)
        await page.goto('/map')
        await hydrated(page)
        await expect(page.locator('[data-testid="map-edge-link"]').first()).toBeVisible()
        expect(await axeViolations(page)).toEqual([])
      } finally {
        await planner.close()
        await worker.close()
      }
    })
  })
}

test('a captured exchange is stepped through request to reply, with its timings and trace id, and a redacted field shown as redacted', async ({
  page,
}) => {
  const callerId = uniqueName('e2e-replay-caller')
  const agentId = uniqueName('e2e-replay-agent')
  const agent = await answeringAgent(agentId)
  const caller = await callingAgent(callerId)
  try {
    const result = await caller.requestResult(agentId, { city: 'Lyon', password: 'correct-horse-battery' })
    await logIn(page)
    await page.goto(`/agents/conversation?a=${callerId}&b=${agentId}`)
    await hydrated(page)
    const replay = page.getByTestId('replay')
    await expect(replay).toHaveAttribute('data-correlation-id', result.correlationId)
    await expect(page.getByTestId('replay-position')).toHaveText('Step 1 of 2')
    await expect(page.getByTestId('replay-step-name')).toHaveText('request')
    await expect(page.getByTestId('replay-trace-id')).toHaveText(result.traceId)
    const payload = page.getByTestId('replay-payload')
    await expect(payload).toContainText('"city": "Lyon"')
    await expect(payload.getByTestId('replay-redacted')).toHaveText('redacted')
    await expect(page.getByTestId('replay-redacted-paths')).toHaveText('$.password')
    await expect(page.getByTestId('replay-section')).not.toContainText('correct-horse-battery')
    await expect(page.getByTestId('replay-previous')).toBeDisabled()

    await page.getByTestId('replay-next').click()
    await expect(page.getByTestId('replay-position')).toHaveText('Step 2 of 2')
    await expect(page.getByTestId('replay-step-name')).toHaveText('reply')
    await expect(payload).toContainText('"greeting": "hello"')
    await expect(payload.getByTestId('replay-redacted')).toHaveText('redacted')
    await expect(page.getByTestId('replay-redacted-paths')).toHaveText('$.got.password')
    await expect(page.getByTestId('replay-step')).toContainText(/\+\d+ ms/)
    await expect(page.getByTestId('replay-next')).toBeDisabled()
    await expect(page.getByTestId('replay-section')).not.toContainText('correct-horse-battery')
    expect(await axeViolations(page)).toEqual([])
  } finally {
    await caller.close()
    await agent.close()
  }
})
