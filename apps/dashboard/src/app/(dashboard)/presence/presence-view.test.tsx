// @vitest-environment happy-dom
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NOW, presenceList } from '@/test-support/presence-fixtures'
import { cleanUpViews, renderView, stubDashboardRoute } from '@/test-support/render-view'
import { PresenceView } from './presence-view'

const ROUTE = '/api/gw/presence'

beforeEach(() => {
  // Only `Date` is faked (ages are read against it); timers stay real so the queries poll.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW)
})
afterEach(cleanUpViews)

function rowOf(clientId: string): HTMLElement {
  const row = screen.getAllByTestId('presence-row').find((r) => r.dataset.clientId === clientId)
  if (row === undefined) throw new Error(`no row for ${clientId}`)
  return row
}

function clientIds(): string[] {
  return screen.queryAllByTestId('presence-row').map((row) => row.dataset.clientId ?? '')
}

describe('Presence page', () => {
  it('shows a row per online client: id, principal, status badge, metadata, last seen, connections, nodes, channels', async () => {
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: presenceList } }))
    renderView(<PresenceView />)

    await waitFor(() => expect(clientIds()).toEqual(['billing-agent', 'ana-phone', 'support-bot']))
    const billing = within(rowOf('billing-agent'))
    expect(billing.getByTestId('presence-client-id').textContent).toBe('billing-agent')
    expect(billing.getByTestId('presence-principal').textContent).toBe('tok_billing')
    const status = billing.getByTestId('presence-status')
    expect(status.textContent).toBe('busy')
    expect(status.className).toContain('tag')
    expect(status.dataset.tone).toBe('warn')
    expect(billing.getByTestId('presence-metadata').textContent).toBe('task=summarising load=0.4')
    expect(billing.getByTestId('presence-last-seen').textContent).toBe('12s ago')
    expect(billing.getByTestId('presence-connections').textContent).toBe('2')
    expect(billing.getByTestId('presence-nodes').textContent).toBe('node-a, node-b')
    expect(billing.getByTestId('presence-channels').textContent).toBe('alerts, room.42')

    const support = within(rowOf('support-bot'))
    expect(support.getByTestId('presence-status').dataset.tone).toBe('ok')
    expect(support.getByTestId('presence-metadata').textContent).toBe('—')
    expect(within(rowOf('ana-phone')).getByTestId('presence-last-seen').textContent).toBe('1m 5s ago')
    expect(within(rowOf('ana-phone')).getByTestId('presence-channels').textContent).toBe('none')
  })

  it('shows metadata with markup as text, never as elements', async () => {
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: presenceList } }))
    renderView(<PresenceView />)

    const metadata = await waitFor(() => within(rowOf('ana-phone')).getByTestId('presence-metadata'))
    expect(metadata.textContent).toBe('note=<img src=x onerror=alert(1)>')
    expect(metadata.querySelector('img')).toBeNull()
  })

  it('aggregates per principal: status, clients, summed connections, latest last seen', async () => {
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: presenceList } }))
    renderView(<PresenceView />)

    await waitFor(() => expect(screen.getAllByTestId('presence-principal-row')).toHaveLength(2))
    const billing = screen
      .getAllByTestId('presence-principal-row')
      .find((row) => row.dataset.principal === 'tok_billing')
    expect(billing).toBeDefined()
    const cells = within(billing as HTMLElement)
    expect(cells.getByTestId('presence-principal-status').textContent).toBe('busy')
    expect(billing?.textContent).toContain('billing-agent, ana-phone')
    expect(billing?.textContent).toContain('3')
    expect(cells.getByTestId('presence-last-seen').textContent).toBe('12s ago')
  })

  it('filters clients and principals by client id, principal or status, ignoring case', async () => {
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: presenceList } }))
    renderView(<PresenceView />)
    await waitFor(() => expect(clientIds()).toHaveLength(3))
    const user = userEvent.setup()
    const filter = screen.getByTestId('presence-filter')

    await user.type(filter, 'SUPPORT-B')
    expect(clientIds()).toEqual(['support-bot'])
    expect(screen.getAllByTestId('presence-principal-row').map((row) => row.dataset.principal)).toEqual([
      'tok_support',
    ])

    await user.clear(filter)
    await user.type(filter, 'tok_billing')
    expect(clientIds()).toEqual(['billing-agent', 'ana-phone'])

    await user.clear(filter)
    await user.type(filter, 'away')
    expect(clientIds()).toEqual(['ana-phone'])
    expect(screen.getByTestId('presence-count').textContent).toContain('1 of 3')

    await user.clear(filter)
    await user.type(filter, 'nobody-like-this')
    expect(clientIds()).toEqual([])
    expect(screen.getByTestId('presence-table-empty').textContent).toBe(
      'No online client matches the filter.',
    )
  })

  it('says nobody is online when the gateway lists no client', async () => {
    stubDashboardRoute(ROUTE, () => ({
      status: 200,
      body: { ok: true, data: { clients: [], principals: [] } },
    }))
    renderView(<PresenceView />)

    await waitFor(() =>
      expect(screen.getByTestId('presence-table-empty').textContent).toBe('Nobody is online.'),
    )
    expect(screen.getByTestId('presence-principals-table-empty').textContent).toBe('No principal is online.')
    expect(screen.queryByTestId('gateway-error')).toBeNull()
  })

  it('shows the gateway error when the gateway answers an error', async () => {
    stubDashboardRoute(ROUTE, () => ({
      status: 502,
      body: {
        ok: false,
        failure: { kind: 'http', status: 503, code: 'bus_unavailable', message: 'Redis is down' },
      },
    }))
    renderView(<PresenceView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toBe('The gateway answered 503 bus_unavailable: Redis is down')
    expect(screen.getByTestId('presence-table-empty').textContent).toBe('Presence unavailable.')
    expect(clientIds()).toEqual([])
  })

  it('parses the answer with the protocol schema: a malformed client list shows the error state', async () => {
    const malformed = {
      clients: [{ clientId: 'x', principal: 'p', status: 'online', lastSeen: 'yesterday' }],
      principals: [],
    }
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: malformed } }))
    renderView(<PresenceView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toContain('unexpected answer from /api/gw/presence')
    expect(screen.getByTestId('presence-table-empty').textContent).toBe('Presence unavailable.')
    expect(clientIds()).toEqual([])
  })

  it('refreshes live: a changed status and a client that left show without a reload', async () => {
    const changed = {
      clients: [{ ...presenceList.clients[0], status: 'online' }],
      principals: [{ ...presenceList.principals[0], status: 'online', clients: ['billing-agent'] }],
    }
    const fetched = stubDashboardRoute(ROUTE, (call) => ({
      status: 200,
      body: { ok: true, data: call === 0 ? presenceList : changed },
    }))
    renderView(<PresenceView />)
    await waitFor(() =>
      expect(within(rowOf('billing-agent')).getByTestId('presence-status').textContent).toBe('busy'),
    )

    // The next poll (every 2 s) brings the change; allow for a loaded machine.
    await waitFor(
      () => expect(within(rowOf('billing-agent')).getByTestId('presence-status').textContent).toBe('online'),
      { timeout: 10_000 },
    )
    expect(clientIds()).toEqual(['billing-agent'])
    expect(fetched.length).toBeGreaterThanOrEqual(2)
  }, 15_000)
})
