import type { AdminPresenceEntry, AdminPresenceList } from '@parley/protocol/admin'
import { truncateText } from './format'

export type PrincipalPresence = AdminPresenceList['principals'][number]

/** How a presence status is coloured: statuses are free-form, the common ones get a tone. */
export type StatusTone = 'ok' | 'warn' | 'error' | 'neutral'

const AVAILABLE_STATUSES = new Set(['online', 'available', 'active', 'ready'])
const BUSY_STATUSES = new Set(['busy', 'away', 'idle', 'dnd', 'do-not-disturb', 'paused'])

export function presenceTone(status: string): StatusTone {
  const normalised = status.toLowerCase()
  if (AVAILABLE_STATUSES.has(normalised)) return 'ok'
  if (BUSY_STATUSES.has(normalised)) return 'warn'
  return 'neutral'
}

function matches(query: string, values: readonly string[]): boolean {
  return values.some((value) => value.toLowerCase().includes(query))
}

/**
 * The clients and principals matching the filter box: a case-insensitive substring of the client id, the
 * principal or the status. A principal also matches through any of its clients. An empty filter keeps all.
 */
export function filterPresence(list: AdminPresenceList, filter: string): AdminPresenceList {
  const query = filter.trim().toLowerCase()
  if (query === '') return list
  return {
    clients: list.clients.filter((client) =>
      matches(query, [client.clientId, client.principal, client.status]),
    ),
    principals: list.principals.filter((principal) =>
      matches(query, [principal.principal, principal.status, ...principal.clients]),
    ),
  }
}

/** Characters of metadata shown in a table cell; the whole of it is in the cell's title. */
export const METADATA_CELL_CHARS = 80

/**
 * `task=summarising load=0.4`: a client's metadata on one line, strings unquoted, other values as JSON,
 * cut to fit a table cell. React renders it as text, so markup in the metadata shows literally.
 */
export function formatMetadata(
  metadata: AdminPresenceEntry['metadata'],
  maxChars = METADATA_CELL_CHARS,
): string {
  const entries = Object.entries(metadata)
  if (entries.length === 0) return '—'
  const text = entries.map(([key, value]) => `${key}=${formatMetadataValue(value)}`).join(' ')
  return truncateText(text, maxChars)
}

function formatMetadataValue(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
