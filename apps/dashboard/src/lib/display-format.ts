import { formatUtc } from './format'

/**
 * `2024-05-01 10:30:00 UTC` from epoch ms: the dashboard's one time convention (UTC, 24-hour), as `formatUtc`
 * shows the gateway's ISO times.
 */
export function formatClockUtc(epochMs: number): string {
  const date = new Date(epochMs)
  return Number.isNaN(date.getTime()) ? '—' : formatUtc(date.toISOString())
}

const BYTE_UNITS = ['KB', 'MB', 'GB', 'TB'] as const

/**
 * A byte count with its unit: `512 B`, `1.5 KB`, `12 MB` (binary steps of 1,024; one decimal under 10 of
 * a unit). A dash when there is no size.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—'
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`
  let value = bytes
  let unit: (typeof BYTE_UNITS)[number] = 'KB'
  for (const next of BYTE_UNITS) {
    value /= 1024
    unit = next
    if (Math.abs(value) < 1024) break
  }
  const shown = Math.abs(value) < 10 ? Math.round(value * 10) / 10 : Math.round(value)
  return `${shown.toLocaleString('en-US')} ${unit}`
}

/** The exact byte count for a tooltip: `1,536 bytes`. */
export function formatExactBytes(bytes: number | null | undefined): string | undefined {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return undefined
  return `${bytes.toLocaleString('en-US')} ${bytes === 1 ? 'byte' : 'bytes'}`
}
