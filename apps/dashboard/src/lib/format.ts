/**
 * Times are shown in UTC on purpose: the server renders them first and the browser hydrates, so a
 * time-zone-dependent format would differ between the two; UTC also matches the gateway's logs.
 */
export function formatUtc(iso: string | null): string {
  if (iso === null) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** `3d 4h`, `2h 5m`, `5m 3s`, `42s`: the two largest units are enough to read at a glance. */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds))
  const units: Array<[string, number]> = [
    ['d', Math.floor(total / 86_400)],
    ['h', Math.floor((total % 86_400) / 3_600)],
    ['m', Math.floor((total % 3_600) / 60)],
    ['s', total % 60],
  ]
  const first = units.findIndex(([, value]) => value > 0)
  if (first === -1) return '0s'
  return units
    .slice(first, first + 2)
    .map(([unit, value]) => `${value}${unit}`)
    .join(' ')
}

export function formatCount(value: number | null): string {
  return value === null ? '—' : value.toLocaleString('en-US')
}

/**
 * A message's data as pretty JSON text, for an operator to read. React renders it as text, so markup in
 * the data shows literally. Data the gateway left out is said to be missing rather than shown as blank.
 */
export function formatJson(data: unknown): string {
  if (data === undefined) return '(no data)'
  try {
    return JSON.stringify(data, null, 2) ?? String(data)
  } catch {
    return String(data)
  }
}

/** One line of a message's data for a table cell, cut at `maxChars` characters with an ellipsis. */
export function formatDataPreview(data: unknown, maxChars = 80): string {
  if (data === undefined) return '—'
  let text: string
  try {
    text = JSON.stringify(data) ?? String(data)
  } catch {
    text = String(data)
  }
  return truncateText(text, maxChars)
}

/** `text` cut at `maxChars` characters, the last one an ellipsis when something was cut. */
export function truncateText(text: string, maxChars: number): string {
  // Code points, not UTF-16 units: cutting inside a surrogate pair would show a broken character.
  const chars = Array.from(text)
  return chars.length <= maxChars ? text : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`
}

/** `5m 3s ago`: how long something has waited, from whole seconds. */
export function formatAge(seconds: number): string {
  return `${formatUptime(seconds)} ago`
}

/**
 * Seconds between `iso` and `asOf` (epoch ms), never negative: a gateway clock slightly ahead of the
 * dashboard's must not show a request from the future. Null when `iso` is not a time.
 */
export function secondsBetween(iso: string, asOf: number): number | null {
  const time = Date.parse(iso)
  if (Number.isNaN(time)) return null
  return Math.max(0, Math.floor((asOf - time) / 1000))
}

/** Seconds from `epochMs` to `asOf` (both epoch ms), never negative (a gateway clock may run ahead). */
export function secondsSince(epochMs: number, asOf: number): number {
  return Math.max(0, Math.floor((asOf - epochMs) / 1000))
}

/** Scopes for a table cell: space-separated, or a dash when there are none (the principal can do nothing). */
export function formatScopes(scopes: readonly string[]): string {
  return scopes.length === 0 ? '—' : scopes.join(' ')
}
