import type { ReactNode } from 'react'
import type { GatewayResult } from '@/lib/gateway-result'
import { StaleCaption, stalenessOf } from './stale-caption'

export type LiveTableColumn = { label: string; numeric?: boolean }

/**
 * A table of one live query's rows. With no rows it shows one line saying why: still loading, nothing to
 * show (`emptyText`), or the query failed (`unavailableText`; the page's banner says what went wrong).
 * When a refresh failed after a good answer the rows are that answer's, and the table says it is stale.
 */
export function LiveTable({
  testId,
  columns,
  result,
  rowCount,
  emptyText,
  unavailableText,
  children,
}: {
  testId: string
  columns: readonly LiveTableColumn[]
  result: GatewayResult<unknown> | undefined
  rowCount: number
  emptyText: string
  unavailableText: string
  children: ReactNode
}) {
  const stale = stalenessOf(result)
  return (
    <div className="table-wrap">
      <table
        className={stale === undefined ? 'table' : 'table table-stale'}
        data-testid={testId}
        data-stale={stale === undefined ? undefined : 'true'}
      >
        <StaleCaption stale={stale} testId={testId} />
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.label} className={column.numeric ? 'num' : undefined}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rowCount === 0 ? (
            <tr>
              <td colSpan={columns.length} className="empty" data-testid={`${testId}-empty`}>
                {result === undefined ? 'Loading…' : result.ok ? emptyText : unavailableText}
              </td>
            </tr>
          ) : (
            children
          )}
        </tbody>
      </table>
    </div>
  )
}
