import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, hydrated, logIn, recordDialogs, uniqueName } from '../helpers.js'
import { gatewayA2aClient, startA2aUpstream, textMessage } from '../upstream-servers.js'

/** The credential the gateway presents to the external agent: typed once on the page, never shown again. */
const UPSTREAM_TOKEN = 'e2e-upstream-secret-0123456789'

test('an operator adds an external A2A agent on the Agents page, sees its skills, and finds its task in the Conversation view', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const upstream = await startA2aUpstream({
    name: 'Weather',
    description: 'Forecasts for a city',
    skills: [{ id: 'forecast', name: 'Forecast', description: 'Three days ahead, <b>any</b> city' }],
    answer: (text) => `sunny in ${text}`,
  })
  const agentId = uniqueName('e2e-weather')
  const created = await adminApi('POST', '/api/admin/tokens', {
    name: uniqueName('e2e-a2a-caller'),
    role: 'client',
    scopes: ['*:*'],
  })
  expect(created.status).toBe(201)
  const caller = created.body as { token: string; info: { id: string } }
  try {
    await logIn(page)
    await page.getByTestId('nav-agents').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/agents`)

    const form = page.getByRole('form', { name: 'Add an A2A agent' })
    await form.getByLabel('Card URLs (one per line)').fill(upstream.cardUrl)
    await form.getByLabel('Agent id (optional)').fill(agentId)
    const token = form.getByLabel('Bearer token (optional)')
    await expect(token).toHaveAttribute('type', 'password')
    await token.fill(UPSTREAM_TOKEN)
    await form.getByRole('button', { name: 'Add A2A agent' }).click()
    await expect(page.getByTestId('a2a-action-result')).toHaveText(
      `Added the A2A agent ${agentId} with 1 skills.`,
    )
    await expect(token).toHaveValue('')

    // The external agents section: its skill, the health of its card URL, the kind of credentials only.
    const row = page.getByRole('row', { name: `A2A agent ${agentId}` })
    await expect(row.getByTestId('a2a-agent-name')).toHaveText('Weather')
    await expect(row.getByTestId('a2a-agent-skills')).toHaveText('forecast')
    const instance = row.getByTestId('a2a-instance')
    await expect(instance).toHaveAttribute('data-url', upstream.cardUrl)
    await expect(instance.getByTestId('a2a-instance-state')).toHaveText('up')
    await expect(instance.getByTestId('a2a-instance-last-fetch')).toContainText('card fetched')
    await expect(row.getByTestId('a2a-agent-credentials')).toHaveText('bearer')

    // The agents table: an external A2A agent, its skill with the card's description (as text), its card here.
    const agentRow = page.locator(`[data-testid="agent-row"][data-agent-id="${agentId}"]`)
    await expect(agentRow.getByTestId('agent-kind')).toHaveText('external A2A')
    const skill = agentRow.locator('[data-testid="agent-capability"][data-capability="forecast"]')
    await expect(skill.getByTestId('agent-capability-description')).toHaveText(
      'Three days ahead, <b>any</b> city',
    )
    await expect(skill.locator('b')).toHaveCount(0)
    await expect(agentRow.getByTestId('agent-card-url')).toHaveAttribute(
      'href',
      `${E2E.gatewayUrl}/a2a/${agentId}/.well-known/agent-card.json`,
    )
    await expect(page.locator('body')).not.toContainText(UPSTREAM_TOKEN)

    // A task through the gateway's A2A endpoint, with the official SDK client and an API token.
    const client = await gatewayA2aClient(E2E.gatewayUrl, agentId, caller.token)
    const result = await client.sendMessage(textMessage('Lyon'))
    if (!('id' in result)) throw new Error(`expected a task, got ${JSON.stringify(result)}`)
    const taskId = result.id
    expect(upstream.authorizations).toContain(`Bearer ${UPSTREAM_TOKEN}`)

    await page.goto(`/agents/conversation?a=${caller.info.id}&b=${agentId}`)
    const a2aRows = page.locator(`[data-testid="conversation-row"][data-correlation-id="${taskId}"]`)
    await expect(a2aRows.first().getByTestId('conversation-kind')).toHaveText('a2a')
    await expect(a2aRows.first().getByTestId('conversation-detail')).toHaveText('message')
    const task = page.locator(`[data-testid="a2a-task"][data-task-id="${taskId}"]`)
    await expect(task.getByTestId('a2a-task-state')).toHaveText('completed')
    await expect(task.getByTestId('a2a-task-part').first()).toContainText('sunny in Lyon')
    expect(dialogs).toEqual([])

    // Removing it asks first, then the agent is gone from both tables.
    await page.goto('/agents')
    await hydrated(page)
    await row.getByRole('button', { name: 'Remove', exact: true }).click()
    await row.getByRole('button', { name: 'Remove agent' }).click()
    await expect(page.getByTestId('a2a-action-result')).toHaveText(`Removed the A2A agent ${agentId}.`)
    await expect(row).toHaveCount(0)
  } finally {
    await adminApi('DELETE', `/api/admin/a2a/agents/${agentId}`)
    await adminApi('DELETE', `/api/admin/tokens/${caller.info.id}`)
    await upstream.close()
  }
})
