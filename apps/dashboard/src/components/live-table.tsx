import type { ReactNode } from 'react'
import type { GatewayResult } from '@/lib/gateway-result'

export type LiveTableColumn = { label: string; numeric?: boolean }

/**
 * A table of one live query's rows. With no rows it shows one line saying why: still loading, nothing to
 * show (`emptyText`), or the query failed (`unavailableText`; the page's banner says what went wrong).
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
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
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
