'use client'

import { useQuery } from '@tanstack/react-query'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LiveTable } from '@/components/live-table'
import { PrincipalName } from '@/components/principal-name'
import { browserQueries } from '@/lib/browser-api'
import { connectionCounts, describeConnectionCounts } from '@/lib/connection-counts'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { PairingConnections } from './pairing-connections'

const CONNECTION_COLUMNS = [
  { label: 'Client id' },
  { label: 'Principal' },
  { label: 'Transport' },
  { label: 'Remote address' },
  { label: 'Connected at' },
  { label: 'Subscriptions' },
  { label: 'Messages in', numeric: true },
  { label: 'Messages out', numeric: true },
] as const

/** A connection's channels, the durable ones marked (kept for its client id while it is away). */
function Subscriptions({ channels, durable }: { channels: readonly string[]; durable: readonly string[] }) {
  if (channels.length === 0) return <span className="muted">none</span>
  return (
    <ul className="plain-list">
      {channels.map((channel) => (
        <li key={channel} data-testid="connection-subscription" data-channel={channel}>
          {channel}
          {durable.includes(channel) ? (
            <>
              {' '}
              <span className="tag" data-testid="connection-subscription-durable">
                durable
              </span>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  )
}

export function ConnectionsView() {
  const result = useQuery(browserQueries.connections()).data
  const connections = result?.ok ? result.data.connections : []
  const pairing = result?.ok ? result.data.pairing : []

  return (
    <section>
      <h1>Connections</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <LiveTable
        testId="connections-table"
        columns={CONNECTION_COLUMNS}
        result={result}
        rowCount={connections.length}
        emptyText="No open connections."
        unavailableText="Connections unavailable."
      >
        {connections.map((connection) => (
          <tr key={connection.connectionId} data-testid="connection-row">
            <td>
              <IdCell id={connection.clientId} />
            </td>
            <td>
              <PrincipalName principal={connection.principal} />
            </td>
            <td>
              <span className="tag">{connection.transport}</span>
            </td>
            <td className="mono">{connection.remoteAddress ?? '—'}</td>
            <td className="nowrap">{formatUtc(connection.connectedAt)}</td>
            <td className="mono" data-testid="connection-subscriptions">
              <Subscriptions
                channels={connection.subscriptions}
                durable={connection.durableSubscriptions ?? []}
              />
            </td>
            <td className="num">{formatCount(connection.messagesIn)}</td>
            <td className="num">{formatCount(connection.messagesOut)}</td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small" data-testid="connections-summary">
        {result?.ok ? describeConnectionCounts(connectionCounts(result.data)) : '—'} · refreshes every 2
        seconds · times in UTC
      </p>
      <PairingConnections pairing={pairing} />
    </section>
  )
}
