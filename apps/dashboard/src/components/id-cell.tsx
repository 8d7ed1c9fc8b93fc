'use client'

import { useEffect, useState } from 'react'

/**
 * A long id in a table: one line, cut with an ellipsis when the column is narrow (the whole id in the
 * tooltip and in the text, so search and copy-paste see it all), with a button that copies it. The button
 * has no text of its own, so the cell's text is the id alone.
 */
export function IdCell({ id, testId }: { id: string; testId?: string }) {
  const [copied, setCopied] = useState(false)
  useEffect(() => {
    if (!copied) return
    const timer = setTimeout(() => setCopied(false), 1_500)
    return () => clearTimeout(timer)
  }, [copied])

  async function copy() {
    try {
      await navigator.clipboard.writeText(id)
      setCopied(true)
    } catch {
      // No clipboard (an insecure origin, a refused permission): the id can still be selected by hand.
      setCopied(false)
    }
  }

  return (
    <span className="id-cell">
      <span className="id-text mono" title={id} data-testid={testId}>
        {id}
      </span>
      <button
        type="button"
        className={copied ? 'copy-id copied' : 'copy-id'}
        aria-label={copied ? `Copied ${id}` : `Copy ${id}`}
        title={copied ? 'Copied' : 'Copy'}
        onClick={() => void copy()}
        data-testid="copy-id"
      />
    </span>
  )
}
