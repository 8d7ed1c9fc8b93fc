'use client'

import type { NodeInfo } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { Badge } from '@/components/badge'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LiveTable } from '@/components/live-table'
import { browserQueries } from '@/lib/browser-api'
import { formatAge, formatCount, formatUtc, secondsBetween } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import type { StatusTone } from '@/lib/presence'

const NODE_COLUMNS = [
  { label: 'Node' },
  { label: 'Version' },
  { label: 'Started' },
  { label: 'Last heartbeat' },
  { label: 'Connections', numeric: true },
  { label: 'Bus channels', numeric: true },
  { label: 'Bus' },
] as const

const BUS_TONE: Record<NodeInfo['bus'], StatusTone> = { local: 'neutral', ok: 'ok', degraded: 'warn' }

const BUS_MEANING: Record<NodeInfo['bus'], string> = {
  local: 'single node: the in-process bus, no Redis',
  ok: 'on the cluster bus (Redis)',
  degraded: 'the bus (Redis) is unreachable: this node serves only its own clients',
}

export function NodesView() {
  const query = useQuery(browserQueries.nodes())
  const result = query.data
  const nodes = result?.ok ? result.data.nodes : []
  const degraded = nodes.filter((node) => node.bus === 'degraded')
  const asOf = query.dataUpdatedAt

  return (
    <section data-testid="nodes-page">
      <h1>Nodes</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      {degraded.length > 0 && (
        <div role="alert" className="banner banner-warning" data-testid="nodes-degraded-warning">
          Bus degraded on {degraded.map((node) => node.id).join(', ')}: Redis is unreachable, so{' '}
          {degraded.length === 1 ? 'this node serves' : 'these nodes serve'} only their own clients (no
          fan-out or presence across nodes) until it is back.
        </div>
      )}
      <LiveTable
        testId="nodes-table"
        columns={NODE_COLUMNS}
        result={result}
        rowCount={nodes.length}
        emptyText="No gateway node answered."
        unavailableText="Nodes unavailable."
      >
        {nodes.map((node) => {
          const heartbeatAge = secondsBetween(node.lastSeenAt, asOf)
          return (
            <tr key={node.id} data-testid="node-row" data-node-id={node.id} data-self={node.self}>
              <td className="nowrap">
                <IdCell id={node.id} testId="node-id" />{' '}
                {node.self && (
                  <span className="tag" data-testid="node-self">
                    this node
                  </span>
                )}
              </td>
              <td className="mono" data-testid="node-version">
                {node.version}
              </td>
              <td className="nowrap" data-testid="node-started">
                {formatUtc(node.startedAt)}
              </td>
              <td className="nowrap" title={formatUtc(node.lastSeenAt)} data-testid="node-last-heartbeat">
                {heartbeatAge === null ? formatUtc(node.lastSeenAt) : formatAge(heartbeatAge)}
              </td>
              <td className="num" data-testid="node-connections">
                {formatCount(node.connections)}
              </td>
              <td className="num" data-testid="node-channels">
                {formatCount(node.channels)}
              </td>
              <td>
                <Badge tone={BUS_TONE[node.bus]} testId="node-bus" title={BUS_MEANING[node.bus]}>
                  {node.bus === 'degraded' ? '⚠ degraded' : node.bus}
                </Badge>
              </td>
            </tr>
          )
        })}
      </LiveTable>
      <p className="muted small">
        {nodes.length} {nodes.length === 1 ? 'node' : 'nodes'} · refreshes every 2 seconds · times in UTC
      </p>
    </section>
  )
}
