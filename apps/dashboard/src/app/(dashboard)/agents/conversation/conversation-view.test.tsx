// @vitest-environment happy-dom

import type { AuditEvent } from '@parley/protocol/admin'
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { agentList, conversationRows, laterConversationRows } from '@/test-support/agent-fixtures'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { ConversationView } from './conversation-view'

afterEach(cleanUpViews)

const FIRST_PAGE = '/api/gw/conversations?a=planner&b=billing&order=newest&limit=100'
const SECOND_PAGE = '/api/gw/conversations?a=planner&b=billing&order=newest&cursor=cur_2&limit=100'

function stubRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.url === '/api/gw/agents') return okAnswer(agentList)
    if (request.url === FIRST_PAGE) {
      return okAnswer({ a: 'planner', b: 'billing', events: conversationRows, nextCursor: 'cur_2' })
    }
    if (request.url === SECOND_PAGE) {
      return okAnswer({ a: 'planner', b: 'billing', events: laterConversationRows, nextCursor: null })
    }
    return undefined
  })
}

function rowIds(): string[] {
  return screen.queryAllByTestId('conversation-row').map((row) => row.dataset.eventId ?? '')
}

function row(id: string): HTMLElement {
  const found = screen.getAllByTestId('conversation-row').find((r) => r.dataset.eventId === id)
  if (found === undefined) throw new Error(`no row ${id}`)
  return found
}

describe('Conversation view', () => {
  it('asks for the newest rows first and shows them as they come: time, direction, kind, outcome, latency, correlation, trace, detail', async () => {
    const sent = stubRoutes()
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)

    await waitFor(() => expect(rowIds()).toEqual(['au_1', 'au_2', 'au_3']))
    expect(sent.some((request) => request.url === FIRST_PAGE)).toBe(true)
    const request = within(row('au_1'))
    expect(row('au_1').textContent).toContain('2024-05-01 10:00:00 UTC')
    expect(request.getByTestId('conversation-direction').textContent).toBe('planner → billing')
    expect(request.getByTestId('conversation-kind').textContent).toBe('request')
    expect(request.getByTestId('conversation-outcome').textContent).toBe('ok')
    expect(request.getByTestId('conversation-correlation').textContent).toBe('req_1')
    expect(row('au_1').textContent).toContain('tr_1')

    const reply = within(row('au_2'))
    expect(reply.getByTestId('conversation-direction').textContent).toBe('billing → planner')
    expect(reply.getByTestId('conversation-kind').textContent).toBe('reply')
    expect(reply.getByTestId('conversation-latency').textContent).toBe('840')
    expect(within(row('au_3')).getByTestId('conversation-latency').textContent).toBe('—')
    expect(within(row('au_3')).getByTestId('conversation-direction').textContent).toBe('billing → planner')
  })

  it('groups a request with its reply by correlation id', async () => {
    stubRoutes()
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)

    await waitFor(() => expect(rowIds()).toHaveLength(3))
    expect(row('au_1').dataset.group).toBe('0')
    expect(row('au_2').dataset.group).toBe('0')
    expect(row('au_1').className).toContain('conversation-group')
    expect(row('au_3').dataset.group).toBeUndefined()
  })

  it('tells the direction of a row from any instance of either agent, and names what each side matched', async () => {
    const fromSecondInstance = {
      ...(laterConversationRows[0] as AuditEvent),
      id: 'au_9',
      kind: 'reply' as const,
      outcome: 'ok' as const,
      principal: 'billing-key',
      clientId: 'billing-2',
      target: 'planner-1',
    }
    stubRoutes((request) =>
      request.url === FIRST_PAGE
        ? okAnswer({
            a: 'planner',
            b: 'billing',
            parties: { a: ['planner', 'planner-1'], b: ['billing', 'billing-2'] },
            events: [fromSecondInstance],
            nextCursor: null,
          })
        : undefined,
    )
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)

    await waitFor(() => expect(rowIds()).toEqual(['au_9']))
    expect(within(row('au_9')).getByTestId('conversation-direction').textContent).toBe('billing → planner')
    expect(screen.getByTestId('conversation-party-b').textContent).toBe('billing also matches billing-2. ')
  })

  it('shows a detail with markup as text, never as elements', async () => {
    stubRoutes()
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)

    const detail = await waitFor(() => within(row('au_1')).getByTestId('conversation-detail'))
    expect(detail.textContent).toBe('<img src=x onerror=alert(1)>')
    expect(detail.querySelector('img')).toBeNull()
  })

  it('loads older rows with nextCursor (Load older), then says there are no older rows', async () => {
    const sent = stubRoutes()
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)
    await waitFor(() => expect(rowIds()).toHaveLength(3))
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'Load older' }))
    await waitFor(() => expect(rowIds()).toEqual(['au_1', 'au_2', 'au_3', 'au_4']))
    expect(sent.some((request) => request.url === SECOND_PAGE)).toBe(true)
    const denied = within(row('au_4'))
    expect(denied.getByTestId('conversation-outcome').textContent).toBe('denied')
    expect(denied.getByTestId('conversation-direction').textContent).toBe('planner → billing')
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull()
    expect(screen.getByText('No older rows.')).toBeDefined()
  })

  it('asks for two agents first, offers the registered agent ids, and shows the pair chosen in the form', async () => {
    const sent = stubRoutes()
    renderView(<ConversationView initial={{ a: '', b: '' }} />)
    expect(screen.getByTestId('conversation-pick').textContent).toContain('Choose two agents')
    await waitFor(() =>
      expect(
        [...screen.getByTestId('conversation-agent-options').querySelectorAll('option')].map((o) => o.value),
      ).toEqual(['planner', 'billing']),
    )
    const user = userEvent.setup()

    await user.type(screen.getByRole('combobox', { name: 'Agent A' }), 'planner')
    await user.click(screen.getByRole('button', { name: 'Show conversation' }))
    expect(screen.getByTestId('conversation-form-error').textContent).toContain('Name both sides')
    expect(sent.some((request) => request.url.startsWith('/api/gw/conversations'))).toBe(false)

    await user.type(screen.getByRole('combobox', { name: 'Agent B' }), 'billing')
    await user.click(screen.getByRole('button', { name: 'Show conversation' }))
    await waitFor(() => expect(rowIds()).toEqual(['au_1', 'au_2', 'au_3']))
    expect(window.location.search).toBe('?a=planner&b=billing')
  })

  it('shows the gateway error envelope when the conversation cannot be read', async () => {
    stubRoutes((request) =>
      request.url.startsWith('/api/gw/conversations')
        ? httpFailureAnswer(400, 'invalid_query', 'a: <b>too long</b>')
        : undefined,
    )
    renderView(<ConversationView initial={{ a: 'planner', b: 'billing' }} />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toBe('The gateway answered 400 invalid_query: a: <b>too long</b>')
    expect(banner.querySelector('b')).toBeNull()
    expect(screen.getByTestId('conversation-table-empty').textContent).toBe('Conversation unavailable.')
  })
})
