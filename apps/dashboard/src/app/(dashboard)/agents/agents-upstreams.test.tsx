// @vitest-environment happy-dom
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AGENTS_NOW } from '@/test-support/agent-fixtures'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { a2aAgentList, upstreamAgentList } from '@/test-support/upstream-fixtures'
import { AgentsView } from './agents-view'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(AGENTS_NOW)
})
afterEach(cleanUpViews)

function stubRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.url === '/api/gw/agents') return okAnswer(upstreamAgentList)
    if (request.url === '/api/gw/grants') return okAnswer({ grants: [] })
    if (request.url === '/api/gw/a2a/agents') return okAnswer(a2aAgentList)
    return undefined
  })
}

function agentRow(agentId: string) {
  const row = screen.getAllByTestId('agent-row').find((r) => r.dataset.agentId === agentId)
  if (row === undefined) throw new Error(`no row for ${agentId}`)
  return within(row)
}

function a2aRow(agentId: string) {
  return within(screen.getByRole('row', { name: `A2A agent ${agentId}` }))
}

describe('Agents page: kinds, cards and skills', () => {
  it('says how each agent is reached and links its A2A card', async () => {
    stubRoutes()
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('agent-row')).toHaveLength(2))

    expect(agentRow('summarizer').getByTestId('agent-kind').textContent).toBe('WebSocket')
    expect(agentRow('weather').getByTestId('agent-kind').textContent).toBe('external A2A')
    expect(agentRow('summarizer').getByTestId('agent-card-url').getAttribute('href')).toBe(
      'https://gw.example/a2a/summarizer/.well-known/agent-card.json',
    )
    // No card URL in the listing: a dash, never a made-up link.
    expect(agentRow('weather').queryByTestId('agent-card-url')).toBeNull()

    const weatherInstance = screen
      .getAllByTestId('instance-row')
      .find((row) => row.dataset.instanceId === 'ins_w1') as HTMLElement
    expect(within(weatherInstance).getByTestId('instance-kind').textContent).toBe('external A2A')
    expect(within(weatherInstance).getByTestId('instance-url').textContent).toBe(
      'http://127.0.0.1:9001/.well-known/agent-card.json',
    )
  })

  it('lists each capability with the title and description the agent gave; markup stays text', async () => {
    stubRoutes()
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('agent-row')).toHaveLength(2))

    const capabilities = agentRow('summarizer').getAllByTestId('agent-capability')
    expect(capabilities.map((c) => c.dataset.capability)).toEqual(['summarize', 'translate.fr'])
    const described = within(capabilities[0] as HTMLElement)
    expect(capabilities[0]?.textContent).toContain('Summarize')
    const description = described.getByTestId('agent-capability-description')
    expect(description.textContent).toBe('Shortens <i>any</i> text to a paragraph.')
    expect(description.querySelector('i')).toBeNull()
    expect(within(capabilities[1] as HTMLElement).queryByTestId('agent-capability-description')).toBeNull()
    expect(agentRow('weather').getByTestId('agent-capability-description').textContent).toBe(
      'Forecast for a city, three days ahead.',
    )
  })
})

describe('Agents page: external A2A agents', () => {
  it('shows the health of every instance URL: a down one as down with its last error', async () => {
    stubRoutes()
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('a2a-agent-row')).toHaveLength(1))

    const row = a2aRow('weather')
    expect(row.getByTestId('a2a-agent-name').textContent).toBe('Weather <b>agent</b>')
    expect(row.getByTestId('a2a-agent-skills').textContent).toBe('forecast')
    expect(row.getByTestId('a2a-agent-signature').textContent).toBe('verified')
    expect(row.getByTestId('a2a-agent-credentials').textContent).toBe('bearer')
    const [up, down] = row.getAllByTestId('a2a-instance')
    expect(up?.dataset.state).toBe('up')
    expect(within(up as HTMLElement).getByTestId('a2a-instance-state').dataset.tone).toBe('ok')
    expect(within(up as HTMLElement).getByTestId('a2a-instance-last-fetch').textContent).toBe(
      'card fetched 2024-05-01 10:29:30 UTC',
    )
    expect(within(up as HTMLElement).queryByTestId('a2a-instance-last-error')).toBeNull()
    const downState = within(down as HTMLElement).getByTestId('a2a-instance-state')
    expect(downState.textContent).toBe('down')
    expect(downState.dataset.tone).toBe('error')
    expect(within(down as HTMLElement).getByTestId('a2a-instance-last-error').textContent).toBe(
      'connect ECONNREFUSED 127.0.0.1:9002',
    )
  })

  it('shows loading, then an empty list, and the gateway error when the list fails', async () => {
    let answer: RouteAnswer | undefined
    stubRoutes((request) => (request.url === '/api/gw/a2a/agents' ? answer : undefined))
    answer = okAnswer({ agents: [] })
    renderView(<AgentsView />)
    expect(screen.getByTestId('a2a-agents-table-empty').textContent).toBe('Loading…')
    await waitFor(() =>
      expect(screen.getByTestId('a2a-agents-table-empty').textContent).toBe(
        'No external A2A agent is registered.',
      ),
    )
    cleanUpViews()

    stubRoutes((request) =>
      request.url === '/api/gw/a2a/agents'
        ? httpFailureAnswer(503, 'unavailable', 'upstreams down')
        : undefined,
    )
    renderView(<AgentsView />)
    await waitFor(() =>
      expect(screen.getByTestId('a2a-agents-table-empty').textContent).toBe(
        'External A2A agents unavailable.',
      ),
    )
    const section = within(screen.getByTestId('a2a-agents-section'))
    expect(section.getByTestId('gateway-error').textContent).toBe(
      'The gateway answered 503 unavailable: upstreams down',
    )
  })

  it('adds an agent with its card URLs, id and bearer token (a password field, emptied after)', async () => {
    const sent = stubRoutes((request) =>
      request.method === 'POST' && request.url === '/api/gw/a2a/agents'
        ? okAnswer(a2aAgentList.agents[0])
        : undefined,
    )
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('a2a-agent-row')).toHaveLength(1))
    const user = userEvent.setup()

    const token = screen.getByTestId('a2a-add-token') as HTMLInputElement
    expect(token.type).toBe('password')
    await user.type(
      screen.getByTestId('a2a-add-urls'),
      'http://127.0.0.1:9001/.well-known/agent-card.json\nhttp://127.0.0.1:9002/.well-known/agent-card.json',
    )
    await user.type(screen.getByTestId('a2a-add-agent-id'), 'weather')
    await user.type(token, 's3cret-token')
    await user.click(screen.getByTestId('a2a-add-submit'))

    await waitFor(() =>
      expect(screen.getByTestId('a2a-action-result').textContent).toBe(
        'Added the A2A agent weather with 1 skills.',
      ),
    )
    expect(sent.filter((request) => request.method === 'POST')).toEqual([
      {
        method: 'POST',
        url: '/api/gw/a2a/agents',
        body: {
          agentId: 'weather',
          urls: [
            'http://127.0.0.1:9001/.well-known/agent-card.json',
            'http://127.0.0.1:9002/.well-known/agent-card.json',
          ],
          credentials: { type: 'bearer', token: 's3cret-token' },
        },
      },
    ])
    expect(token.value).toBe('')
    expect(document.body.textContent).not.toContain('s3cret-token')
  })

  it('names a wrong card URL before anything is sent, and shows the gateway refusal of an add', async () => {
    const sent = stubRoutes((request) =>
      request.method === 'POST'
        ? httpFailureAnswer(422, 'invalid_card', 'the card at http://x.example/ is not an agent card')
        : undefined,
    )
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('a2a-agent-row')).toHaveLength(1))
    const user = userEvent.setup()

    await user.type(screen.getByTestId('a2a-add-urls'), 'ftp://nope')
    await user.click(screen.getByTestId('a2a-add-submit'))
    expect(screen.getByTestId('a2a-add-error').textContent).toContain('card URLs')
    expect(sent.some((request) => request.method === 'POST')).toBe(false)

    await user.clear(screen.getByTestId('a2a-add-urls'))
    await user.type(screen.getByTestId('a2a-add-urls'), 'http://x.example/')
    await user.type(screen.getByTestId('a2a-add-token'), 'tok')
    await user.click(screen.getByTestId('a2a-add-submit'))
    await waitFor(() =>
      expect(screen.getByTestId('a2a-action-error').textContent).toBe(
        'Could not add the A2A agent. The gateway answered 422 invalid_card: the card at http://x.example/ is not an agent card',
      ),
    )
    expect((screen.getByTestId('a2a-add-token') as HTMLInputElement).value).toBe('')
    expect((screen.getByTestId('a2a-add-urls') as HTMLTextAreaElement).value).toBe('http://x.example/')
  })

  it('refreshes an agent, and removes it only after the confirmation', async () => {
    const sent = stubRoutes((request) => {
      if (request.method === 'POST' && request.url === '/api/gw/a2a/agents/weather/refresh')
        return okAnswer(a2aAgentList.agents[0])
      if (request.method === 'DELETE' && request.url === '/api/gw/a2a/agents/weather')
        return okAnswer({ name: 'weather', removed: true })
      return undefined
    })
    renderView(<AgentsView />)
    await waitFor(() => expect(screen.getAllByTestId('a2a-agent-row')).toHaveLength(1))
    const user = userEvent.setup()

    await user.click(a2aRow('weather').getByTestId('a2a-agent-refresh'))
    await waitFor(() =>
      expect(screen.getByTestId('a2a-action-result').textContent).toBe('Fetched the cards of weather again.'),
    )

    await user.click(a2aRow('weather').getByTestId('a2a-agent-remove'))
    expect(sent.some((request) => request.method === 'DELETE')).toBe(false)
    await user.click(a2aRow('weather').getByTestId('a2a-agent-remove-confirm'))
    await waitFor(() =>
      expect(screen.getByTestId('a2a-action-result').textContent).toBe('Removed the A2A agent weather.'),
    )
    expect(sent.filter((request) => request.method !== 'GET').map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/gw/a2a/agents/weather/refresh',
      'DELETE /api/gw/a2a/agents/weather',
    ])
  })
})
