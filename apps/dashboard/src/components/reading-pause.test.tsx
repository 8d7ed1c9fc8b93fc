// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { PausedBar, usePausedRows } from './reading-pause'

afterEach(cleanup)

type Row = { id: string; time: string }
const row = (id: string, second: number): Row => ({ id, time: `2025-05-01T10:00:${second}Z` })

function LiveList({ rows, listKey = 'all' }: { rows: Row[]; listKey?: string }) {
  const paused = usePausedRows(rows, listKey)
  return (
    <>
      <PausedBar
        paused={paused.paused}
        newCount={paused.newCount}
        noun={{ one: 'event', many: 'events' }}
        onResume={paused.resume}
        testIdPrefix="list"
      />
      <div ref={paused.containerRef} data-testid="list">
        {paused.rows.map((shown) => (
          <p key={shown.id} data-testid="row">
            {shown.id}
          </p>
        ))}
      </div>
    </>
  )
}

const ids = () => screen.getAllByTestId('row').map((element) => element.textContent)

describe('usePausedRows', () => {
  it('follows the live rows until the operator scrolls over the list', () => {
    const view = render(<LiveList rows={[row('a', 10)]} />)
    view.rerender(<LiveList rows={[row('b', 20), row('a', 10)]} />)
    expect(ids()).toEqual(['b', 'a'])
    expect(screen.queryByTestId('list-paused')).toBeNull()
  })

  it('freezes the rows on a wheel over the list and counts the new ones; the count resumes', () => {
    const view = render(<LiveList rows={[row('a', 10)]} />)
    fireEvent.wheel(screen.getByTestId('list'))
    expect(screen.getByTestId('list-new-events').textContent).toBe('Resume live updates')
    view.rerender(<LiveList rows={[row('c', 30), row('b', 20), row('a', 10)]} />)
    expect(ids()).toEqual(['a'])
    expect(screen.getByTestId('list-new-events').textContent).toBe('2 new events')
    fireEvent.click(screen.getByTestId('list-new-events'))
    expect(ids()).toEqual(['c', 'b', 'a'])
    expect(screen.queryByTestId('list-paused')).toBeNull()
  })

  it('pauses on a text selection inside the list', () => {
    render(<LiveList rows={[row('a', 10)]} />)
    const text = screen.getByTestId('row').firstChild as Node
    const selection = document.getSelection()
    selection?.setBaseAndExtent(text, 0, text, 1)
    fireEvent(document, new Event('selectionchange'))
    expect(screen.getByTestId('list-paused')).toBeTruthy()
  })

  it('ends the pause when the list shows something else (new filters)', () => {
    const view = render(<LiveList rows={[row('a', 10)]} />)
    fireEvent.wheel(screen.getByTestId('list'))
    view.rerender(<LiveList rows={[row('x', 40)]} listKey="kind=publish" />)
    expect(ids()).toEqual(['x'])
    expect(screen.queryByTestId('list-paused')).toBeNull()
  })
})
