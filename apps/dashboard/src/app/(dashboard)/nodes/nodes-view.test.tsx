// @vitest-environment happy-dom
import type { NodeList } from '@parley/protocol/admin'
import { screen, waitFor, within } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NOW, nodeList } from '@/test-support/presence-fixtures'
import { cleanUpViews, renderView, stubDashboardRoute } from '@/test-support/render-view'
import { NodesView } from './nodes-view'

const ROUTE = '/api/gw/nodes'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW)
})
afterEach(cleanUpViews)

function rowOf(nodeId: string): HTMLElement {
  const row = screen.getAllByTestId('node-row').find((r) => r.dataset.nodeId === nodeId)
  if (row === undefined) throw new Error(`no row for ${nodeId}`)
  return row
}

function answering(list: NodeList) {
  stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: list } }))
}

describe('Nodes page', () => {
  it('shows each node: id, this node, version, started, last heartbeat, connections, bus channels, bus state', async () => {
    answering(nodeList)
    renderView(<NodesView />)

    await waitFor(() => expect(screen.getAllByTestId('node-row')).toHaveLength(2))
    const self = within(rowOf('node-a'))
    expect(self.getByTestId('node-id').textContent).toBe('node-a')
    expect(self.getByTestId('node-self').textContent).toBe('this node')
    expect(self.getByTestId('node-version').textContent).toBe('0.1.0')
    expect(self.getByTestId('node-started').textContent).toBe('2026-01-01 11:00:00 UTC')
    expect(self.getByTestId('node-last-heartbeat').textContent).toBe('0s ago')
    expect(self.getByTestId('node-connections').textContent).toBe('4')
    expect(self.getByTestId('node-channels').textContent).toBe('3')
    expect(self.getByTestId('node-bus').textContent).toBe('ok')
    expect(self.getByTestId('node-bus').dataset.tone).toBe('ok')

    const other = within(rowOf('node-b'))
    expect(other.queryByTestId('node-self')).toBeNull()
    expect(other.getByTestId('node-version').textContent).toBe('0.1.1')
    expect(other.getByTestId('node-last-heartbeat').textContent).toBe('10s ago')
    expect(screen.queryByTestId('nodes-degraded-warning')).toBeNull()
  })

  it('shows a single node without Redis with bus state local', async () => {
    answering({ nodes: [{ ...nodeList.nodes[0], bus: 'local' }] as NodeList['nodes'] })
    renderView(<NodesView />)

    const bus = await screen.findByTestId('node-bus')
    expect(bus.textContent).toBe('local')
    expect(bus.dataset.tone).toBe('neutral')
    expect(screen.queryByTestId('nodes-degraded-warning')).toBeNull()
  })

  it('warns visibly about a node whose bus is degraded', async () => {
    const [self, other] = nodeList.nodes as [NodeList['nodes'][number], NodeList['nodes'][number]]
    answering({ nodes: [self, { ...other, bus: 'degraded' }] })
    renderView(<NodesView />)

    const warning = await screen.findByTestId('nodes-degraded-warning')
    expect(warning.getAttribute('role')).toBe('alert')
    expect(warning.textContent).toContain('Bus degraded on node-b')
    const bus = within(rowOf('node-b')).getByTestId('node-bus')
    expect(bus.textContent).toContain('degraded')
    expect(bus.dataset.tone).toBe('warn')
    expect(bus.className).toContain('tag-warn')
    expect(within(rowOf('node-a')).getByTestId('node-bus').dataset.tone).toBe('ok')
  })

  it('says so when no node is listed', async () => {
    answering({ nodes: [] })
    renderView(<NodesView />)

    await waitFor(() =>
      expect(screen.getByTestId('nodes-table-empty').textContent).toBe('No gateway node answered.'),
    )
  })

  it('shows the gateway error when the gateway answers an error', async () => {
    stubDashboardRoute(ROUTE, () => ({
      status: 502,
      body: {
        ok: false,
        failure: { kind: 'unreachable', url: 'http://127.0.0.1:8765', reason: 'ECONNREFUSED' },
      },
    }))
    renderView(<NodesView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toBe('Gateway unreachable at http://127.0.0.1:8765: ECONNREFUSED')
    expect(screen.getByTestId('nodes-table-empty').textContent).toBe('Nodes unavailable.')
  })

  it('parses the answer with the protocol schema: an unknown bus state shows the error state', async () => {
    const malformed = { nodes: [{ ...nodeList.nodes[0], bus: 'splendid' }] }
    stubDashboardRoute(ROUTE, () => ({ status: 200, body: { ok: true, data: malformed } }))
    renderView(<NodesView />)

    const banner = await screen.findByTestId('gateway-error')
    expect(banner.textContent).toContain('unexpected answer from /api/gw/nodes')
    expect(screen.queryAllByTestId('node-row')).toEqual([])
    expect(screen.getByTestId('nodes-table-empty').textContent).toBe('Nodes unavailable.')
  })

  it('refreshes live: a new connection count shows without a reload', async () => {
    const [self] = nodeList.nodes as [NodeList['nodes'][number]]
    stubDashboardRoute(ROUTE, (call) => ({
      status: 200,
      body: { ok: true, data: { nodes: [{ ...self, connections: call === 0 ? 4 : 5 }] } },
    }))
    renderView(<NodesView />)
    await waitFor(() => expect(screen.getByTestId('node-connections').textContent).toBe('4'))

    // The next poll (every 2 s) brings the change; allow for a loaded machine.
    await waitFor(() => expect(screen.getByTestId('node-connections').textContent).toBe('5'), {
      timeout: 10_000,
    })
  }, 15_000)
})
