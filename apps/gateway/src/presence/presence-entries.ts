import type { AdminPresenceEntry, PresenceEntry, PrincipalPresence } from '@parley/protocol'

/** One client id as one node sees it (its connections on that node). */
export interface NodeClientEntry extends AdminPresenceEntry {
  node: string
}

/** Without the node it was read from: as the admin list and `presence_get` show it. */
export function strip(entry: NodeClientEntry): AdminPresenceEntry {
  const { node: _node, ...rest } = entry
  return rest
}

/** A bus entry as written by `writeEntry`; undefined when it is not one. */
export function parseEntry(value: string): NodeClientEntry | undefined {
  try {
    const entry = JSON.parse(value) as NodeClientEntry
    if (typeof entry?.clientId !== 'string' || !Array.isArray(entry.channels)) return undefined
    return entry
  } catch {
    return undefined
  }
}

/** Each principal over its clients: the status of its most recently active one, connections summed. */
export function aggregate(entries: readonly PresenceEntry[]): PrincipalPresence[] {
  const byPrincipal = new Map<string, PrincipalPresence>()
  for (const entry of entries) {
    const seen = byPrincipal.get(entry.principal)
    if (seen === undefined) {
      byPrincipal.set(entry.principal, {
        principal: entry.principal,
        status: entry.status,
        clients: [entry.clientId],
        connections: entry.connections,
        lastSeen: entry.lastSeen,
      })
      continue
    }
    if (entry.lastSeen > seen.lastSeen) {
      seen.status = entry.status
      seen.lastSeen = entry.lastSeen
    }
    seen.clients.push(entry.clientId)
    seen.connections += entry.connections
  }
  return [...byPrincipal.values()].sort((a, b) => a.principal.localeCompare(b.principal))
}
