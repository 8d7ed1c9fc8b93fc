'use client'

import { type RefObject, useCallback, useEffect, useRef, useState } from 'react'
import { pausedView, type TimedRow } from '@/lib/paused-rows'

/** Keys that scroll or move through a table the keyboard's way. */
const SCROLL_KEYS = new Set(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' '])

/**
 * Pauses a live list (newest first) while the operator reads it, so rows stop shifting under the eyes:
 * scrolling over it (wheel, touch, scroll keys, its own scroll bar) or selecting text in it freezes the rows
 * on screen until `resume`; the rows that arrived meanwhile are counted (`newCount`). Returns the ref to put
 * on the list's container and the rows to show.
 */
export function usePausedRows<T extends TimedRow>(
  live: readonly T[],
  /** What the rows are of (say the filters): a pause ends when it changes. */
  listKey: string,
): {
  containerRef: RefObject<HTMLDivElement | null>
  paused: boolean
  rows: readonly T[]
  newCount: number
  resume: () => void
} {
  const containerRef = useRef<HTMLDivElement | null>(null)
  const latest = useRef({ live, listKey })
  latest.current = { live, listKey }
  const [pausedAt, setPausedAt] = useState<{ listKey: string; rows: readonly T[] } | undefined>(undefined)
  // The rows on screen when the pause began, not the ones of a later render.
  const pause = useCallback(
    () =>
      setPausedAt((current) =>
        current?.listKey === latest.current.listKey
          ? current
          : { listKey: latest.current.listKey, rows: latest.current.live },
      ),
    [],
  )
  const resume = useCallback(() => setPausedAt(undefined), [])
  const snapshot = pausedAt?.listKey === listKey ? pausedAt.rows : undefined

  useEffect(() => {
    const container = containerRef.current
    if (container === null) return
    const onKey = (event: KeyboardEvent) => {
      if (SCROLL_KEYS.has(event.key)) pause()
    }
    // A selection that starts or ends in the list: the operator is copying something from it.
    const onSelection = () => {
      const selection = document.getSelection()
      if (selection === null || selection.isCollapsed) return
      if (container.contains(selection.anchorNode) || container.contains(selection.focusNode)) pause()
    }
    container.addEventListener('wheel', pause, { passive: true })
    container.addEventListener('touchmove', pause, { passive: true })
    container.addEventListener('scroll', pause, { passive: true, capture: true })
    container.addEventListener('keydown', onKey)
    document.addEventListener('selectionchange', onSelection)
    return () => {
      container.removeEventListener('wheel', pause)
      container.removeEventListener('touchmove', pause)
      container.removeEventListener('scroll', pause, { capture: true })
      container.removeEventListener('keydown', onKey)
      document.removeEventListener('selectionchange', onSelection)
    }
  }, [pause])

  if (snapshot === undefined) return { containerRef, paused: false, rows: live, newCount: 0, resume }
  const view = pausedView(snapshot, live)
  return { containerRef, paused: true, rows: view.rows, newCount: view.newCount, resume }
}

/** Says the list is paused and how many rows wait; clicking it shows them and resumes the refresh. */
export function PausedBar({
  paused,
  newCount,
  noun,
  onResume,
  testIdPrefix,
}: {
  paused: boolean
  newCount: number
  noun: { one: string; many: string }
  onResume: () => void
  testIdPrefix: string
}) {
  if (!paused) return null
  return (
    <div className="paused-bar" role="status" data-testid={`${testIdPrefix}-paused`}>
      <span>Paused while you read.</span>
      <button
        type="button"
        className="button small"
        onClick={onResume}
        data-testid={`${testIdPrefix}-new-events`}
      >
        {newCount === 0
          ? 'Resume live updates'
          : `${newCount.toLocaleString('en-US')} new ${newCount === 1 ? noun.one : noun.many}`}
      </button>
    </div>
  )
}
