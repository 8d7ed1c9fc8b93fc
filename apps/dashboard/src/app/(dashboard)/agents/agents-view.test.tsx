// @vitest-environment happy-dom
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AGENTS_NOW, agentList, allGrants, liveGrant, liveGrants } from '@/test-support/agent-fixtures'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { AgentsView } from './agents-view'

beforeEach(() => {
  // Only `Date` is faked (ages are read against it); timers stay real so the queries poll.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(AGENTS_NOW)
})
afterEach(cleanUpViews)

/** The agents page's routes with the usual answers; `override` answers first when it returns one. */
function stubAgentRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.url === '/api/gw/agents') return okAnswer(agentList)
    if (request.url === '/api/gw/grants') return okAnswer(liveGrants)
    if (request.url === '/api/gw/grants?all=true') return okAnswer(allGrants)
    if (request.url === '/api/gw/a2a/agents') return okAnswer({ agents: [] })
    return undefined
  })
}

function agentIds(): string[] {
  return screen.queryAllByTestId('agent-row').map((row) => row.dataset.agentId ?? '')
}

function agentRow(agentId: string): HTMLElement {
  const row = screen.getAllByTestId('agent-row').find((r) => r.dataset.agentId === agentId)
  if (row === undefined) throw new Error(`no row for ${agentId}`)
  return row
}

function grantIds(): string[] {
  return screen.queryAllByTestId('grant-row').map((row) => row.dataset.grantId ?? '')
}

describe('Agents page', () => {
  it('shows each agent: id, capabilities, status badge, connected since, instance count, total in flight', async () => {
    stubAgentRoutes()
    renderView(<AgentsView />)

    await waitFor(() => expect(agentIds()).toEqual(['planner', 'billing']))
    const planner = within(agentRow('planner'))
    expect(
      planner.getAllByTestId('agent-capability').map((capability) => capability.dataset.capability),
    ).toEqual(['plan', 'summarize'])
    const status = planner.getByTestId('agent-status')
    expect(status.textContent).toBe('active')
    expect(status.dataset.tone).toBe('ok')
    expect(planner.getByTestId('agent-connected-since').textContent).toBe('1h 0m ago')
    expect(planner.getByTestId('agent-instances').textContent).toBe('2')
    expect(planner.getByTestId('agent-in-flight').textContent).toBe('3')
    expect(within(agentRow('billing')).getByTestId('agent-status').dataset.tone).toBe('warn')
    // "Conversation with…" fills both sides: this agent and the other one.
    expect(planner.getByRole('link', { name: 'billing' }).getAttribute('href')).toBe(
      '/agents/conversation?a=planner&b=billing',
    )
    expect(planner.getByRole('link', { name: 'someone else…' }).getAttribute('href')).toBe(
      '/agents/conversation?a=planner',
    )
  })

  it('lists every instance with client id, principal, node, status, in flight and last seen; markup shows as text', async () => {
    stubAgentRoutes()
    renderView(<AgentsView />)

    await waitFor(() => expect(screen.getAllByTestId('instance-row')).toHaveLength(3))
    const second = screen.getAllByTestId('instance-row').find((row) => row.dataset.instanceId === 'ins_p2')
    const cells = within(second as HTMLElement)
    expect(second?.textContent).toContain('planner-2')
    expect(second?.textContent).toContain('node-b')
    expect(cells.getByTestId('instance-status').textContent).toBe('inactive')
    expect(cells.getByTestId('instance-in-flight').textContent).toBe('1')
    expect(cells.getByTestId('instance-last-seen').textContent).toBe('1m 5s ago')

    const billing = screen.getAllByTestId('instance-row').find((row) => row.dataset.instanceId === 'ins_b1')
    const principal = within(billing as HTMLElement).getByTestId('instance-principal')
    expect(principal.textContent).toBe('<b>billing-key</b>')
    expect(principal.querySelector('b')).toBeNull()
  })

  it('filters agents and their instances by capability, ignoring case', async () => {
    stubAgentRoutes()
    renderView(<AgentsView />)
    await waitFor(() => expect(agentIds()).toHaveLength(2))
    const user = userEvent.setup()

    await user.type(screen.getByTestId('agents-capability-filter'), 'INVOICE')
    expect(agentIds()).toEqual(['billing'])
    expect(screen.getAllByTestId('instance-row').map((row) => row.dataset.instanceId)).toEqual(['ins_b1'])
    expect(screen.getByTestId('agents-count').textContent).toContain('1 of 2')

    await user.clear(screen.getByTestId('agents-capability-filter'))
    await user.type(screen.getByTestId('agents-capability-filter'), 'nothing-like-this')
    expect(screen.getByTestId('agents-table-empty').textContent).toBe('No agent has a matching capability.')
  })

  it('refreshes live: an agent that went inactive shows without a reload', async () => {
    const later = { agents: [{ ...agentList.agents[0], status: 'inactive' }] }
    let calls = 0
    stubAgentRoutes((request) => {
      if (request.url !== '/api/gw/agents') return undefined
      calls += 1
      return okAnswer(calls === 1 ? agentList : later)
    })
    renderView(<AgentsView />)
    await waitFor(() => expect(agentIds()).toEqual(['planner', 'billing']))

    // The next poll (every 2 s) brings the change; allow for a loaded machine.
    await waitFor(() => expect(agentIds()).toEqual(['planner']), { timeout: 10_000 })
    expect(within(agentRow('planner')).getByTestId('agent-status').textContent).toBe('inactive')
  }, 15_000)

  it('shows the gateway error when the agent list fails', async () => {
    stubAgentRoutes((request) =>
      request.url === '/api/gw/agents' ? httpFailureAnswer(503, 'unavailable', 'directory down') : undefined,
    )
    renderView(<AgentsView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toBe('The gateway answered 503 unavailable: directory down')
    expect(screen.getByTestId('agents-table-empty').textContent).toBe('Agents unavailable.')
  })
})

describe('Agents page: grants', () => {
  it('lists live grants from → to with reason (markup as text) and creation time', async () => {
    stubAgentRoutes()
    renderView(<AgentsView />)

    await waitFor(() => expect(grantIds()).toEqual(['grt_1']))
    const row = screen.getByRole('row', { name: 'Grant planner → billing' })
    const cells = within(row)
    expect(cells.getByTestId('grant-from').textContent).toBe('plannerplanner-key')
    expect(cells.getByTestId('grant-to').textContent).toBe('billingbilling-key')
    const reason = cells.getByTestId('grant-reason')
    expect(reason.textContent).toBe('need invoices for <script>alert(1)</script>')
    expect(reason.querySelector('script')).toBeNull()
    expect(row.textContent).toContain('2024-05-01 10:00:00 UTC')
    expect(cells.getByTestId('grant-status').textContent).toBe('live')
  })

  it('shows revoked grants, without a Revoke button, once asked to', async () => {
    const sent = stubAgentRoutes()
    renderView(<AgentsView />)
    await waitFor(() => expect(grantIds()).toEqual(['grt_1']))
    const user = userEvent.setup()

    await user.click(screen.getByRole('checkbox', { name: 'Show revoked grants' }))
    await waitFor(() => expect(grantIds()).toEqual(['grt_1', 'grt_0']))
    expect(sent.some((request) => request.url === '/api/gw/grants?all=true')).toBe(true)
    const revoked = screen.getByRole('row', { name: 'Grant web-1 → planner' })
    expect(within(revoked).getByTestId('grant-status').textContent).toBe('revoked 2024-04-30 12:00:00 UTC')
    expect(within(revoked).queryByRole('button', { name: 'Revoke' })).toBeNull()
  })

  it('revokes a grant after confirmation with DELETE /api/gw/grants/:id and says so', async () => {
    let revoked = false
    const sent = stubAgentRoutes((request) => {
      if (request.method === 'DELETE' && request.url === '/api/gw/grants/grt_1') {
        revoked = true
        return okAnswer({ ...liveGrant, revokedAt: '2024-05-01T10:30:00.000Z' })
      }
      if (request.url === '/api/gw/grants' && revoked) return okAnswer({ grants: [] })
      return undefined
    })
    renderView(<AgentsView />)
    await waitFor(() => expect(grantIds()).toEqual(['grt_1']))
    const user = userEvent.setup()

    const row = screen.getByRole('row', { name: 'Grant planner → billing' })
    await user.click(within(row).getByRole('button', { name: 'Revoke' }))
    // Nothing is sent before the operator confirms.
    expect(sent.some((request) => request.method === 'DELETE')).toBe(false)
    await user.click(within(row).getByRole('button', { name: 'Revoke grant' }))

    const result = await screen.findByTestId('grant-action-result')
    expect(result.textContent).toContain('Revoked the grant between planner and billing (grt_1)')
    expect(result.textContent).toContain('2024-05-01 10:30:00 UTC')
    expect(sent.filter((request) => request.method === 'DELETE')).toEqual([
      { method: 'DELETE', url: '/api/gw/grants/grt_1', body: undefined },
    ])
    await waitFor(() => expect(grantIds()).toEqual([]))
  })

  it('shows the gateway error envelope when revoking fails', async () => {
    stubAgentRoutes((request) =>
      request.method === 'DELETE' ? httpFailureAnswer(404, 'not_found', 'no grant grt_1') : undefined,
    )
    renderView(<AgentsView />)
    await waitFor(() => expect(grantIds()).toEqual(['grt_1']))
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'Revoke' }))
    await user.click(screen.getByRole('button', { name: 'Revoke grant' }))

    const error = await screen.findByTestId('grant-action-error')
    expect(error.textContent).toBe(
      'Could not revoke the grant between planner and billing (grt_1). The gateway answered 404 not_found: no grant grt_1',
    )
  })
})
