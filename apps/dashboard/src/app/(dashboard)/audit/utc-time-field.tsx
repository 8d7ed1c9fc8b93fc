'use client'

import { utcInputMinutesBefore } from '@/lib/audit-filters'

/** The relative shortcuts of the Since field: minutes before now. */
const SHORTCUTS = [
  { label: 'Last 15 min', minutes: 15, key: '15m' },
  { label: 'Last hour', minutes: 60, key: '1h' },
  { label: 'Last 24 h', minutes: 24 * 60, key: '24h' },
] as const

/**
 * A time typed as text in the dashboard's one convention, UTC and 24-hour (`2024-05-01 22:30:00`), the way
 * the tables show times; a browser's date picker would follow its locale (12-hour in some) and its time
 * zone. `shortcuts` adds "last 15 min / hour / 24 h", filled from the browser's clock.
 */
export function UtcTimeField({
  label,
  value,
  onChange,
  invalid,
  describedBy,
  shortcuts = false,
  testId,
}: {
  label: string
  value: string
  onChange: (value: string) => void
  invalid: boolean
  describedBy: string | undefined
  shortcuts?: boolean
  testId: string
}) {
  return (
    <div className="utc-time-field">
      <label>
        {label} (UTC, 24-hour)
        <input
          type="text"
          className="utc-time-input"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder="YYYY-MM-DD HH:MM:SS"
          inputMode="numeric"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={invalid ? true : undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        />
      </label>
      {shortcuts ? (
        <div className="time-shortcuts">
          {SHORTCUTS.map((shortcut) => (
            <button
              key={shortcut.key}
              type="button"
              className="button secondary small"
              onClick={() => onChange(utcInputMinutesBefore(Date.now(), shortcut.minutes))}
              data-testid={`${testId}-last-${shortcut.key}`}
            >
              {shortcut.label}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  )
}
