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
