// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { LiveTable } from './live-table'

afterEach(cleanup)

const COLUMNS = [{ label: 'Name' }, { label: 'Count', numeric: true }] as const

function table(result: Parameters<typeof LiveTable>[0]['result'], rows: string[]) {
  return render(
    <LiveTable
      testId="things-table"
      columns={COLUMNS}
      result={result}
      rowCount={rows.length}
      emptyText="No things."
      unavailableText="Things unavailable."
    >
      {rows.map((row) => (
        <tr key={row} data-testid="thing-row">
          <td>{row}</td>
          <td>1</td>
        </tr>
      ))}
    </LiveTable>,
  )
}

describe('LiveTable', () => {
  it('has a header per column, numeric ones aligned as numbers', () => {
    table({ ok: true, data: null }, ['a'])
    const headers = screen.getAllByRole('columnheader')
    expect(headers.map((th) => th.textContent)).toEqual(['Name', 'Count'])
    expect(headers.map((th) => th.className)).toEqual(['', 'num'])
  })

  it('shows the rows and no empty line when there are rows', () => {
    table({ ok: true, data: null }, ['a', 'b'])
    expect(screen.getAllByTestId('thing-row')).toHaveLength(2)
    expect(screen.queryByTestId('things-table-empty')).toBeNull()
  })

  it('says loading before the first answer, empty after an empty one, unavailable after a failure', () => {
    table(undefined, [])
    const empty = () => screen.getByTestId('things-table-empty')
    expect(empty().textContent).toBe('Loading…')
    expect(empty().getAttribute('colspan')).toBe('2')
    cleanup()
    table({ ok: true, data: null }, [])
    expect(empty().textContent).toBe('No things.')
    cleanup()
    table({ ok: false, failure: { kind: 'dashboard_unreachable', reason: 'offline' } }, [])
    expect(empty().textContent).toBe('Things unavailable.')
  })
})

describe('LiveTable with kept data', () => {
  it('shows the kept rows marked stale with the time they were last updated, not the empty line', () => {
    const failure = { kind: 'unreachable', url: 'http://gw', reason: 'down' } as const
    table({ ok: true, data: null, stale: { failure, lastUpdatedAt: Date.UTC(2025, 4, 1, 22, 5, 9) } }, ['a'])
    expect(screen.getAllByTestId('thing-row')).toHaveLength(1)
    expect(screen.getByTestId('things-table').dataset.stale).toBe('true')
    expect(screen.getByTestId('things-table-stale').textContent).toBe(
      'Stale: last updated 2025-05-01 22:05:09 UTC',
    )
    expect(screen.queryByTestId('things-table-empty')).toBeNull()
  })
})
