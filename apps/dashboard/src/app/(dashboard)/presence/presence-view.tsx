'use client'

import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Badge } from '@/components/badge'
import { TextFilter } from '@/components/filter-fields'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { PrincipalName } from '@/components/principal-name'
import { browserQueries } from '@/lib/browser-api'
import { formatAge, formatCount, secondsSince } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { filterPresence, formatMetadata, presenceTone } from '@/lib/presence'

const CLIENT_COLUMNS = [
  { label: 'Client id' },
  { label: 'Principal' },
  { label: 'Status' },
  { label: 'Metadata' },
  { label: 'Last seen' },
  { label: 'Connections', numeric: true },
  { label: 'Nodes' },
  { label: 'Channels' },
] as const

const PRINCIPAL_COLUMNS = [
  { label: 'Principal' },
  { label: 'Status' },
  { label: 'Clients' },
  { label: 'Connections', numeric: true },
  { label: 'Last seen' },
] as const

/** `12s ago`, with the exact UTC time in the title. */
function LastSeen({ epochMs, asOf }: { epochMs: number; asOf: number }) {
  return (
    <td className="nowrap" title={new Date(epochMs).toISOString()} data-testid="presence-last-seen">
      {formatAge(secondsSince(epochMs, asOf))}
    </td>
  )
}

function listOrNone(values: readonly string[]) {
  return values.length === 0 ? <span className="muted">none</span> : values.join(', ')
}

export function PresenceView() {
  const query = useQuery(browserQueries.presence())
  const result = query.data
  const [filter, setFilter] = useState('')
  const everyone = result?.ok ? result.data : { clients: [], principals: [] }
  const { clients, principals } = filterPresence(everyone, filter)
  const filtering = filter.trim() !== ''
  // Ages are counted from when the answer arrived, the same on the server render and in the browser.
  const asOf = query.dataUpdatedAt

  return (
    <section data-testid="presence-page">
      <h1>Presence</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <div className="filters">
        <TextFilter
          label="Filter by client id, principal or status"
          value={filter}
          onChange={setFilter}
          testId="presence-filter"
        />
      </div>

      <h2>Clients</h2>
      <LiveTable
        testId="presence-table"
        columns={CLIENT_COLUMNS}
        result={result}
        rowCount={clients.length}
        emptyText={filtering ? 'No online client matches the filter.' : 'Nobody is online.'}
        unavailableText="Presence unavailable."
      >
        {clients.map((client) => (
          <tr key={client.clientId} data-testid="presence-row" data-client-id={client.clientId}>
            <td className="mono" data-testid="presence-client-id">
              {client.clientId}
            </td>
            <td data-testid="presence-principal">
              <PrincipalName principal={client.principal} />
            </td>
            <td>
              <Badge tone={presenceTone(client.status)} testId="presence-status">
                {client.status}
              </Badge>
            </td>
            <td
              className="mono detail"
              title={JSON.stringify(client.metadata, null, 2)}
              data-testid="presence-metadata"
            >
              {formatMetadata(client.metadata)}
            </td>
            <LastSeen epochMs={client.lastSeen} asOf={asOf} />
            <td className="num" data-testid="presence-connections">
              {formatCount(client.connections)}
            </td>
            <td className="mono" data-testid="presence-nodes">
              {listOrNone(client.nodes)}
            </td>
            <td className="mono" data-testid="presence-channels">
              {listOrNone(client.channels)}
            </td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small" data-testid="presence-count">
        {filtering ? `${clients.length} of ${everyone.clients.length}` : clients.length} online on every node
        · refreshes every 2 seconds
      </p>

      <h2>By principal</h2>
      <LiveTable
        testId="presence-principals-table"
        columns={PRINCIPAL_COLUMNS}
        result={result}
        rowCount={principals.length}
        emptyText={filtering ? 'No principal matches the filter.' : 'No principal is online.'}
        unavailableText="Presence unavailable."
      >
        {principals.map((principal) => (
          <tr
            key={principal.principal}
            data-testid="presence-principal-row"
            data-principal={principal.principal}
          >
            <td>
              <PrincipalName principal={principal.principal} />
            </td>
            <td>
              <Badge tone={presenceTone(principal.status)} testId="presence-principal-status">
                {principal.status}
              </Badge>
            </td>
            <td className="mono">{listOrNone(principal.clients)}</td>
            <td className="num">{formatCount(principal.connections)}</td>
            <LastSeen epochMs={principal.lastSeen} asOf={asOf} />
          </tr>
        ))}
      </LiveTable>
    </section>
  )
}
