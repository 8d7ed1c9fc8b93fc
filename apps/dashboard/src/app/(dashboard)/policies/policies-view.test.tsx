// @vitest-environment happy-dom
import type { PolicyRuleInfo } from '@parley/protocol/admin'
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { policyList } from '@/test-support/agent-fixtures'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { PoliciesView } from './policies-view'

afterEach(cleanUpViews)

const ROUTE = '/api/gw/policies'

const denyRule: PolicyRuleInfo = {
  id: 'no-ops-publish',
  description: null,
  effect: 'deny',
  actions: ['publish'],
  subject: { kind: 'role', pattern: 'ops' },
  target: { kind: 'channel', pattern: 'alerts.*' },
  priority: 50,
  createdAt: '2024-05-01T10:00:00.000Z',
  updatedAt: '2024-05-01T10:00:00.000Z',
}

function stubRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.method === 'GET' && request.url === ROUTE) return okAnswer(policyList)
    return undefined
  })
}

function ruleIds(): string[] {
  return screen.queryAllByTestId('policy-rule-row').map((row) => row.dataset.ruleId ?? '')
}

function changes(sent: SentRequest[]): SentRequest[] {
  return sent.filter((request) => request.method !== 'GET')
}

async function renderLoaded() {
  renderView(<PoliciesView />)
  await waitFor(() => expect(ruleIds()).toEqual(['no-billing-streams', 'intro-for-billing']))
  return userEvent.setup()
}

describe('Policies page', () => {
  it('shows the version, the default effect and the rules in evaluation order', async () => {
    stubRoutes()
    await renderLoaded()

    expect(screen.getByTestId('policy-version').textContent).toBe('Version 7')
    expect((screen.getByRole('combobox', { name: 'Default effect' }) as HTMLSelectElement).value).toBe(
      'allow',
    )
    const first = within(screen.getByRole('row', { name: 'Rule no-billing-streams' }))
    expect(first.getByTestId('policy-rule-priority').textContent).toBe('100')
    const effect = first.getByTestId('policy-rule-effect')
    expect(effect.textContent).toBe('deny')
    expect(effect.className).toContain('tag')
    expect(first.getByTestId('policy-rule-actions').textContent).toBe('stream')
    expect(first.getByTestId('policy-rule-subject').textContent).toBe('principal:*')
    expect(first.getByTestId('policy-rule-target').textContent).toBe('principal:billing-key')
    const second = within(screen.getByRole('row', { name: 'Rule intro-for-billing' }))
    expect(second.getByTestId('policy-rule-effect').textContent).toBe('require_introduction')
    expect(second.getByTestId('policy-rule-actions').textContent).toBe('message, request')
    expect(second.getByTestId('policy-rule-subject').textContent).toBe('role:agent')
    expect(second.getByTestId('policy-rule-target').textContent).toBe('capability:invoices')
  })

  it('shows a description with markup as text, never as elements', async () => {
    stubRoutes()
    await renderLoaded()

    const description = within(screen.getByRole('row', { name: 'Rule no-billing-streams' })).getByTestId(
      'policy-rule-description',
    )
    expect(description.textContent).toContain('billing never streams <i>anything</i>')
    expect(description.querySelector('i')).toBeNull()
  })

  it('sets the default effect with PUT /api/gw/policies/default and shows the new version', async () => {
    const changed = { ...policyList, version: 8, defaultEffect: 'deny' }
    let put = false
    const sent = stubRoutes((request) => {
      if (request.method === 'PUT') put = true
      return put ? okAnswer(changed) : undefined
    })
    const user = await renderLoaded()

    await user.selectOptions(screen.getByRole('combobox', { name: 'Default effect' }), 'deny')

    await waitFor(() => expect(screen.getByTestId('policy-version').textContent).toBe('Version 8'))
    expect(changes(sent)).toEqual([
      { method: 'PUT', url: '/api/gw/policies/default', body: { effect: 'deny' } },
    ])
    expect(screen.getByTestId('policy-action-result').textContent).toContain('now answers: deny')
    expect((screen.getByRole('combobox', { name: 'Default effect' }) as HTMLSelectElement).value).toBe('deny')
  })

  it('adds a deny rule with POST /api/gw/policies carrying the form as a CreatePolicyRuleRequest', async () => {
    let created = false
    const sent = stubRoutes((request) => {
      if (request.method === 'POST') {
        created = true
        return { status: 201, body: { ok: true, data: denyRule } }
      }
      if (request.method === 'GET' && created)
        return okAnswer({ ...policyList, version: 8, rules: [...policyList.rules, denyRule] })
      return undefined
    })
    const user = await renderLoaded()
    const form = within(screen.getByRole('form', { name: 'Add a policy rule' }))

    await user.type(form.getByRole('textbox', { name: 'Id (optional)' }), 'no-ops-publish')
    await user.selectOptions(form.getByRole('combobox', { name: 'Effect' }), 'deny')
    await user.click(form.getByRole('checkbox', { name: 'publish' }))
    await user.selectOptions(form.getByRole('combobox', { name: 'Subject kind' }), 'role')
    await user.type(form.getByRole('textbox', { name: 'Subject pattern' }), 'ops')
    await user.selectOptions(form.getByRole('combobox', { name: 'Target kind' }), 'channel')
    await user.type(form.getByRole('textbox', { name: 'Target pattern' }), 'alerts.*')
    await user.type(form.getByRole('textbox', { name: 'Priority' }), '50')
    await user.click(form.getByRole('button', { name: 'Add rule' }))

    await waitFor(() => expect(ruleIds()).toContain('no-ops-publish'))
    expect(changes(sent)).toEqual([
      {
        method: 'POST',
        url: '/api/gw/policies',
        body: {
          id: 'no-ops-publish',
          effect: 'deny',
          actions: ['publish'],
          subject: { kind: 'role', pattern: 'ops' },
          target: { kind: 'channel', pattern: 'alerts.*' },
          priority: 50,
        },
      },
    ])
    expect(screen.getByTestId('policy-action-result').textContent).toBe('Added rule no-ops-publish.')
    // The form empties for the next rule.
    expect((form.getByRole('textbox', { name: 'Subject pattern' }) as HTMLInputElement).value).toBe('')
  })

  it('refuses a rule without actions or patterns in the form, naming the fields, and sends nothing', async () => {
    const sent = stubRoutes()
    const user = await renderLoaded()
    const form = within(screen.getByRole('form', { name: 'Add a policy rule' }))

    await user.type(form.getByRole('textbox', { name: 'Priority' }), 'high')
    await user.click(form.getByRole('button', { name: 'Add rule' }))

    const error = form.getByRole('alert')
    expect(error.textContent).toContain('actions: choose at least one')
    expect(error.textContent).toContain('subject: choose a kind and type a pattern')
    expect(error.textContent).toContain('priority must be a whole number')
    expect(changes(sent)).toEqual([])
  })

  it("shows the gateway's error envelope when it refuses a new rule", async () => {
    stubRoutes((request) =>
      request.method === 'POST' ? httpFailureAnswer(409, 'conflict', 'rule <b>x</b> exists') : undefined,
    )
    const user = await renderLoaded()
    const form = within(screen.getByRole('form', { name: 'Add a policy rule' }))

    await user.click(form.getByRole('checkbox', { name: '* (every action)' }))
    await user.type(form.getByRole('textbox', { name: 'Subject pattern' }), '*')
    await user.type(form.getByRole('textbox', { name: 'Target pattern' }), '*')
    await user.click(form.getByRole('button', { name: 'Add rule' }))

    const error = await screen.findByTestId('policy-action-error')
    expect(error.textContent).toBe(
      'Could not add the rule. The gateway answered 409 conflict: rule <b>x</b> exists',
    )
    expect(error.querySelector('b')).toBeNull()
    // The form keeps what was typed so the operator can fix it.
    expect((form.getByRole('textbox', { name: 'Subject pattern' }) as HTMLInputElement).value).toBe('*')
  })

  it('edits a rule with PATCH /api/gw/policies/:id carrying every field', async () => {
    const sent = stubRoutes((request) =>
      request.method === 'PATCH'
        ? okAnswer({ ...policyList.rules[1], effect: 'deny', priority: 20, description: 'now denied' })
        : undefined,
    )
    const user = await renderLoaded()

    await user.click(
      within(screen.getByRole('row', { name: 'Rule intro-for-billing' })).getByRole('button', {
        name: 'Edit',
      }),
    )
    const form = within(screen.getByRole('form', { name: 'Edit rule intro-for-billing' }))
    expect((form.getByRole('textbox', { name: 'Target pattern' }) as HTMLInputElement).value).toBe('invoices')
    expect((form.getByRole('checkbox', { name: 'request' }) as HTMLInputElement).checked).toBe(true)
    await user.selectOptions(form.getByRole('combobox', { name: 'Effect' }), 'deny')
    await user.clear(form.getByRole('textbox', { name: 'Priority' }))
    await user.type(form.getByRole('textbox', { name: 'Priority' }), '20')
    await user.type(form.getByRole('textbox', { name: 'Description' }), 'now denied')
    await user.click(form.getByRole('button', { name: 'Save rule' }))

    await waitFor(() =>
      expect(screen.getByTestId('policy-action-result').textContent).toBe('Saved rule intro-for-billing.'),
    )
    expect(changes(sent)).toEqual([
      {
        method: 'PATCH',
        url: '/api/gw/policies/intro-for-billing',
        body: {
          effect: 'deny',
          actions: ['message', 'request'],
          subject: { kind: 'role', pattern: 'agent' },
          target: { kind: 'capability', pattern: 'invoices' },
          priority: 20,
          description: 'now denied',
        },
      },
    ])
    expect(screen.queryByRole('form', { name: 'Edit rule intro-for-billing' })).toBeNull()
  })

  it('removes the description of an edited rule with description: null', async () => {
    const sent = stubRoutes((request) =>
      request.method === 'PATCH' ? okAnswer({ ...policyList.rules[0], description: null }) : undefined,
    )
    const user = await renderLoaded()

    await user.click(
      within(screen.getByRole('row', { name: 'Rule no-billing-streams' })).getByRole('button', {
        name: 'Edit',
      }),
    )
    const form = within(screen.getByRole('form', { name: 'Edit rule no-billing-streams' }))
    await user.clear(form.getByRole('textbox', { name: 'Description' }))
    await user.click(form.getByRole('button', { name: 'Save rule' }))

    await screen.findByTestId('policy-action-result')
    expect(changes(sent)[0]?.body).toMatchObject({ description: null, priority: 100 })
  })

  it('deletes a rule after confirmation with DELETE /api/gw/policies/:id', async () => {
    let deleted = false
    const sent = stubRoutes((request) => {
      if (request.method === 'DELETE') {
        deleted = true
        return okAnswer({ id: 'no-billing-streams', deleted: true })
      }
      if (request.method === 'GET' && deleted) {
        return okAnswer({ ...policyList, version: 8, rules: policyList.rules.slice(1) })
      }
      return undefined
    })
    const user = await renderLoaded()
    const row = within(screen.getByRole('row', { name: 'Rule no-billing-streams' }))

    await user.click(row.getByRole('button', { name: 'Delete' }))
    expect(changes(sent)).toEqual([])
    await user.click(row.getByRole('button', { name: 'Delete rule' }))

    await waitFor(() => expect(ruleIds()).toEqual(['intro-for-billing']))
    expect(changes(sent)).toEqual([
      { method: 'DELETE', url: '/api/gw/policies/no-billing-streams', body: undefined },
    ])
    expect(screen.getByTestId('policy-action-result').textContent).toBe('Deleted rule no-billing-streams.')
    expect(screen.getByTestId('policy-version').textContent).toBe('Version 8')
  })

  it('shows the gateway error when the policies cannot be read', async () => {
    stubRoutes((request) =>
      request.method === 'GET' ? httpFailureAnswer(503, 'unavailable', 'store down') : undefined,
    )
    renderView(<PoliciesView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toBe('The gateway answered 503 unavailable: store down')
    expect(screen.getByTestId('policy-rules-table-empty').textContent).toBe('Policies unavailable.')
    expect(screen.getByTestId('policy-version').textContent).toBe('Version —')
  })
})
