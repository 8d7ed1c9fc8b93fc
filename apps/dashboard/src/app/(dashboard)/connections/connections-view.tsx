'use client'

import { useQuery } from '@tanstack/react-query'
import { GatewayErrorBanner } from '../../../components/gateway-error-banner'
import { browserQueries } from '../../../lib/browser-api'
import { formatCount, formatUtc } from '../../../lib/format'
import { firstFailure } from '../../../lib/gateway-result'

export function ConnectionsView() {
  const result = useQuery(browserQueries.connections()).data
  const connections = result?.ok ? result.data.connections : []

  return (
    <section>
      <h1>Connections</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <div className="table-wrap">
        <table className="table" data-testid="connections-table">
          <thead>
            <tr>
              <th>Client id</th>
              <th>Principal</th>
              <th>Transport</th>
              <th>Remote address</th>
              <th>Connected at</th>
              <th>Subscriptions</th>
              <th className="num">In</th>
              <th className="num">Out</th>
            </tr>
          </thead>
          <tbody>
            {connections.length === 0 ? (
              <tr>
                <td colSpan={8} className="empty">
                  {result === undefined
                    ? 'Loading…'
                    : result.ok
                      ? 'No open connections.'
                      : 'Connections unavailable.'}
                </td>
              </tr>
            ) : (
              connections.map((connection) => (
                <tr key={connection.connectionId} data-testid="connection-row">
                  <td className="mono" title={connection.userAgent ?? undefined}>
                    {connection.clientId}
                  </td>
                  <td>{connection.principal}</td>
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
              ))
            )}
          </tbody>
        </table>
      </div>
      <p className="muted small">{connections.length} open · refreshes every 2 seconds · times in UTC</p>
    </section>
  )
}
