import { AgentClient, IntroductionRequiredError, PolicyDeniedError } from '@parley/client'
import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, recordDialogs, uniqueName } from '../helpers.js'

/** An agent that answers every request with `{ echo: data, by: agentId }`. */
async function echoAgent(agentId: string, capabilities: string[]): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, { agentId, capabilities, introductions: 'accept' })
  agent.handle(async (data) => ({ echo: data, by: agentId }))
  await agent.connect()
  return agent
}

async function caller(agentId: string): Promise<AgentClient> {
  const agent = new AgentClient(E2E.wsUrl, { agentId, capabilities: [] })
  await agent.connect()
  return agent
}

/** Resolves with what the promise rejected with (fails the test when it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

test('a deny rule added on the Policies page refuses the very next request, and deleting it lets requests through again', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const capability = uniqueName('e2e-summarize')
  const ruleId = uniqueName('e2e-deny').slice(0, 60)
  const billing = await echoAgent(uniqueName('e2e-billing'), [capability])
  const planner = await caller(uniqueName('e2e-planner'))
  try {
    expect(await planner.request({ capability }, { n: 1 })).toMatchObject({ echo: { n: 1 } })

    await logIn(page)
    await page.getByTestId('nav-policies').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/policies`)
    const form = page.getByRole('form', { name: 'Add a policy rule' })
    await form.getByLabel('Id (optional)').fill(ruleId)
    await form.getByLabel('Effect').selectOption('deny')
    await form.getByRole('checkbox', { name: 'request', exact: true }).check()
    await form.getByLabel('Subject kind').selectOption('principal')
    await form.getByLabel('Subject pattern').fill('*')
    await form.getByLabel('Target kind').selectOption('capability')
    await form.getByLabel('Target pattern').fill(capability)
    await form.getByLabel('Priority').fill('1000')
    await form.getByLabel('Description').fill('<b>e2e</b> block')
    await form.getByRole('button', { name: 'Add rule' }).click()
    await expect(page.getByTestId('policy-action-result')).toHaveText(`Added rule ${ruleId}.`)
    const row = page.getByRole('row', { name: `Rule ${ruleId}` })
    await expect(row.getByTestId('policy-rule-effect')).toHaveText('deny')
    await expect(row.locator('b')).toHaveCount(0)

    // The admin API answered only after every node reloaded: the next request is refused.
    const denied = await rejection(planner.request({ capability }, { n: 2 }))
    expect(denied).toBeInstanceOf(PolicyDeniedError)
    expect((denied as PolicyDeniedError).rule).toBe(ruleId)

    await row.getByRole('button', { name: 'Delete', exact: true }).click()
    await row.getByRole('button', { name: 'Delete rule' }).click()
    await expect(page.getByTestId('policy-action-result')).toHaveText(`Deleted rule ${ruleId}.`)
    await expect(page.getByRole('row', { name: `Rule ${ruleId}` })).toHaveCount(0)
    expect(await planner.request({ capability }, { n: 3 })).toMatchObject({ echo: { n: 3 } })
    expect(dialogs).toEqual([])
  } finally {
    await adminApi('DELETE', `/api/admin/policies/${ruleId}`)
    await planner.close()
    await billing.close()
  }
})

test('after an accepted introduction requests flow; revoking the grant on the Agents page blocks them again', async ({
  page,
}) => {
  const capability = uniqueName('e2e-invoices')
  const ruleId = uniqueName('e2e-intro').slice(0, 60)
  const created = await adminApi('POST', '/api/admin/policies', {
    id: ruleId,
    effect: 'require_introduction',
    actions: ['request'],
    subject: { kind: 'principal', pattern: '*' },
    target: { kind: 'capability', pattern: capability },
    priority: 1000,
  })
  expect(created.status).toBe(201)
  const billingId = uniqueName('e2e-billing')
  const plannerId = uniqueName('e2e-planner')
  const billing = await echoAgent(billingId, [capability])
  const planner = await caller(plannerId)
  try {
    expect(await rejection(planner.request({ capability }, 1))).toBeInstanceOf(IntroductionRequiredError)

    const connected = new Promise((resolve) => billing.on('connected', resolve))
    const grant = await planner.introduce(billingId, { reason: 'need invoices' })
    await connected
    expect(await planner.request({ capability }, 2)).toMatchObject({ echo: 2, by: billingId })

    await logIn(page)
    await page.getByTestId('nav-agents').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/agents`)
    const row = page.getByRole('row', { name: `Grant ${plannerId} → ${billingId}` })
    await expect(row).toHaveCount(1)
    const revoked = new Promise((resolve) => planner.on('grant_revoked', resolve))
    await row.getByRole('button', { name: 'Revoke', exact: true }).click()
    await row.getByRole('button', { name: 'Revoke grant' }).click()
    await expect(page.getByTestId('grant-action-result')).toContainText(grant.grantId)
    await expect(row).toHaveCount(0)
    await revoked

    expect(await rejection(planner.request({ capability }, 3))).toBeInstanceOf(IntroductionRequiredError)
  } finally {
    await adminApi('DELETE', `/api/admin/policies/${ruleId}`)
    await planner.close()
    await billing.close()
  }
})

test('the Conversation view shows a request and its reply between two agents, newest first, with the latency', async ({
  page,
}) => {
  const billingId = uniqueName('e2e-billing')
  const plannerId = uniqueName('e2e-planner')
  const billing = await echoAgent(billingId, [])
  const planner = await caller(plannerId)
  try {
    const result = await planner.requestResult(billingId, { invoice: 7 })
    await logIn(page)
    await page.goto(`/agents/conversation?a=${plannerId}&b=${billingId}`)
    const rows = page.locator(
      `[data-testid="conversation-row"][data-correlation-id="${result.correlationId}"]`,
    )
    await expect(rows).toHaveCount(2)
    // Newest first: the reply above its request.
    await expect(rows.nth(0).getByTestId('conversation-kind')).toHaveText('reply')
    await expect(rows.nth(0).getByTestId('conversation-direction')).toContainText(
      `${billingId} → ${plannerId}`,
    )
    await expect(rows.nth(0).getByTestId('conversation-outcome')).toHaveText('ok')
    await expect(rows.nth(0).getByTestId('conversation-latency')).toHaveText(/^\d/)
    await expect(rows.nth(1).getByTestId('conversation-kind')).toHaveText('request')
    await expect(rows.nth(1).getByTestId('conversation-direction')).toContainText(
      `${plannerId} → ${billingId}`,
    )
  } finally {
    await planner.close()
    await billing.close()
  }
})
