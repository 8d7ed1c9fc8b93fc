import type { AuditEvent } from '@parley/protocol/admin'
import { formatBytes, formatExactBytes } from '@/lib/display-format'
import { formatUtc } from '@/lib/format'
import type { Staleness } from '@/lib/gateway-result'
import { IdCell } from './id-cell'
import { PrincipalName } from './principal-name'
import { StaleCaption } from './stale-caption'

function Cell({ value }: { value: string | number | null }) {
  return value === null ? <span className="muted">—</span> : value
}

/** Audit rows; every gateway-provided value is rendered as text by React. */
export function AuditTable({
  events,
  testId,
  emptyText,
  stale,
}: {
  events: readonly AuditEvent[]
  testId: string
  emptyText: string
  /** Set when the rows are a kept answer after a failed refresh. */
  stale?: Staleness | undefined
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId} data-stale={stale === undefined ? undefined : 'true'}>
        <StaleCaption stale={stale} testId={testId} />
        <thead>
          <tr>
            <th>Time</th>
            <th>Kind</th>
            <th>Principal</th>
            <th>Client</th>
            <th>Channel</th>
            <th>Target</th>
            <th className="num">Size</th>
            <th>Outcome</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {events.length === 0 ? (
            <tr>
              <td colSpan={9} className="empty">
                {emptyText}
              </td>
            </tr>
          ) : (
            events.map((event) => (
              <tr key={event.id} data-testid="audit-row">
                <td className="nowrap">{formatUtc(event.time)}</td>
                <td>
                  <span className={`tag tag-${event.kind}`}>{event.kind}</span>
                </td>
                <td>
                  <PrincipalName principal={event.principal} />
                </td>
                <td>{event.clientId === null ? <Cell value={null} /> : <IdCell id={event.clientId} />}</td>
                <td className="mono">
                  <Cell value={event.channel} />
                </td>
                <td className="mono">
                  <Cell value={event.target} />
                </td>
                <td className="num nowrap" title={formatExactBytes(event.size)}>
                  {formatBytes(event.size)}
                </td>
                <td>
                  <span className={`outcome outcome-${event.outcome}`}>{event.outcome}</span>
                </td>
                <td className="detail">
                  <Cell value={event.detail} />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  )
}
