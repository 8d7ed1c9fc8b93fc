'use client'

import { useQuery } from '@tanstack/react-query'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LiveTable } from '@/components/live-table'
import { PrincipalName } from '@/components/principal-name'
import { browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'

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

export function ConnectionsView() {
  const result = useQuery(browserQueries.connections()).data
  const connections = result?.ok ? result.data.connections : []

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
            <td className="mono">
              {connection.subscriptions.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                connection.subscriptions.join(', ')
              )}
            </td>
            <td className="num">{formatCount(connection.messagesIn)}</td>
            <td className="num">{formatCount(connection.messagesOut)}</td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small">{connections.length} open · refreshes every 2 seconds · times in UTC</p>
    </section>
  )
}
