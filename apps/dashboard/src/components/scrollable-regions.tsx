'use client'

import { useEffect } from 'react'

/** Frames that scroll their content: tables, and JSON blocks (a dead letter's data). */
const SCROLLING_FRAMES = '.table-wrap, .json'

/** The heading a table sits under: the nearest `h2` (or the page's `h1`) before its frame. */
function headingOf(frame: Element): string {
  let node: Element | null = frame.previousElementSibling
  while (node !== null) {
    const heading = node.matches('h1, h2') ? node : node.querySelector('h2')
    if (heading?.textContent) return heading.textContent.trim()
    node = node.previousElementSibling
  }
  return document.querySelector('main h1')?.textContent?.trim() ?? 'Table'
}

/** Makes a frame that scrolls reachable by keyboard (arrow keys scroll it), and only while it scrolls. */
function markScrollable(frame: HTMLElement): void {
  const scrolls = frame.scrollWidth > frame.clientWidth || frame.scrollHeight > frame.clientHeight
  if (scrolls && !frame.hasAttribute('tabindex')) {
    frame.tabIndex = 0
    frame.setAttribute('role', 'region')
    frame.setAttribute('aria-label', `${headingOf(frame)} (scrolls)`)
  } else if (!scrolls && frame.getAttribute('role') === 'region') {
    frame.removeAttribute('tabindex')
    frame.removeAttribute('role')
    frame.removeAttribute('aria-label')
  }
}

/**
 * Table frames (`.table-wrap`) scroll sideways when a table is wider than the screen (phones), JSON blocks when
 * the data is long. A region that scrolls must be reachable with the keyboard, so while one scrolls it is a
 * focusable, named region. Watches the
 * page for new tables and the window for size changes; renders nothing.
 */
export function ScrollableRegions() {
  useEffect(() => {
    let frame = 0
    const update = () => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(() => {
        for (const region of document.querySelectorAll<HTMLElement>(SCROLLING_FRAMES)) markScrollable(region)
      })
    }
    const observer = new MutationObserver(update)
    observer.observe(document.body, { childList: true, subtree: true })
    window.addEventListener('resize', update)
    update()
    return () => {
      cancelAnimationFrame(frame)
      observer.disconnect()
      window.removeEventListener('resize', update)
    }
  }, [])
  return null
}
