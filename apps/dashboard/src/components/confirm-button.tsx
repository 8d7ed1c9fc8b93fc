'use client'

import { type ReactNode, useState } from 'react'

/**
 * A destructive button that asks once more in place (no `window.confirm`, which blocks the page and cannot
 * say what will be lost in the page's own words). `testId` is the first button; the confirm and cancel
 * buttons are `<testId>-confirm` and `<testId>-cancel`.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  disabled,
  small,
  testId,
}: {
  label: string
  question: ReactNode
  confirmLabel: string
  onConfirm: () => void
  disabled?: boolean
  small?: boolean
  testId: string
}) {
  const [asking, setAsking] = useState(false)
  const size = small === true ? ' small' : ''
  if (!asking) {
    return (
      <button
        type="button"
        className={`button secondary danger${size}`}
        disabled={disabled}
        onClick={() => setAsking(true)}
        data-testid={testId}
      >
        {label}
      </button>
    )
  }
  return (
    <fieldset className="confirm" aria-label={label}>
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className={`button danger${size}`}
        disabled={disabled}
        onClick={() => {
          setAsking(false)
          onConfirm()
        }}
        data-testid={`${testId}-confirm`}
      >
        {confirmLabel}
      </button>
      <button
        type="button"
        className={`button secondary${size}`}
        onClick={() => setAsking(false)}
        data-testid={`${testId}-cancel`}
      >
        Cancel
      </button>
    </fieldset>
  )
}
