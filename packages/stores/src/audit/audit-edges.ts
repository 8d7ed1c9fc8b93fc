import type { AuditEvent, AuditKind, AuditOutcome } from '@parley/protocol'
import { and, gte, inArray, lt, sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { resultRows } from '../delivery/postgres-rows.js'
import { auditEvents } from '../schema.js'

/**
 * Who talked to whom in a time window, counted from the audit rows (the map in the dashboard). Rows are grouped
 * by (kind, outcome, source, target, channel), where the source is the acting side's client id (its principal
 * when it has none); the gateway folds them into edges between agents, callers and channels.
 */

/** The kinds of rows that are traffic between two parties (or a party and a channel). */
export const EDGE_KINDS = [
  'request',
  'reply',
  'stream',
  'message',
  'send',
  'publish',
] as const satisfies readonly AuditKind[]
export type EdgeKind = (typeof EDGE_KINDS)[number]

export interface AuditEdgeFilter {
  /** Rows at or after this time. */
  since: Date
  /** Rows before this time; now when absent. */
  until?: Date
}

export interface AuditEdgeCount {
  kind: EdgeKind
  outcome: AuditOutcome
  source: string
  target: string | null
  channel: string | null
  count: number
  /** Sum of the latencies of the rows that had one, and how many did (an average needs both). */
  latencyMsSum: number
  latencyCount: number
}

/** Most groups one window returns: bounds the answer whatever the traffic (the busiest groups first). */
export const MAX_EDGE_GROUPS = 5_000

const isEdgeKind = (kind: string): kind is EdgeKind => (EDGE_KINDS as readonly string[]).includes(kind)

/** Counts from rows already in memory (the memory audit log). */
export function countAuditEdges(rows: Iterable<AuditEvent>, filter: AuditEdgeFilter): AuditEdgeCount[] {
  const since = filter.since.getTime()
  const until = filter.until?.getTime() ?? Number.POSITIVE_INFINITY
  const groups = new Map<string, AuditEdgeCount>()
  for (const row of rows) {
    if (!isEdgeKind(row.kind)) continue
    const time = Date.parse(row.time)
    if (time < since || time >= until) continue
    const source = row.clientId ?? row.principal
    if (source === null) continue
    const key = JSON.stringify([row.kind, row.outcome, source, row.target, row.channel])
    let group = groups.get(key)
    if (group === undefined) {
      group = {
        kind: row.kind,
        outcome: row.outcome,
        source,
        target: row.target,
        channel: row.channel,
        count: 0,
        latencyMsSum: 0,
        latencyCount: 0,
      }
      groups.set(key, group)
    }
    group.count += 1
    if (typeof row.latencyMs === 'number') {
      group.latencyMsSum += row.latencyMs
      group.latencyCount += 1
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, MAX_EDGE_GROUPS)
}

/** One GROUP BY over the window, read through the (time, id) index. */
export async function readAuditEdges(
  database: ParleyDatabase,
  filter: AuditEdgeFilter,
): Promise<AuditEdgeCount[]> {
  const source = sql<string>`coalesce(${auditEvents.clientId}, ${auditEvents.principal})`
  const rows = resultRows<{
    kind: string
    outcome: string
    source: string
    target: string | null
    channel: string | null
    count: number
    latency_sum: number
    latency_count: number
  }>(
    await database.db.execute(sql`select ${auditEvents.kind} as kind, ${auditEvents.outcome} as outcome,
        ${source} as source, ${auditEvents.target} as target, ${auditEvents.channel} as channel,
        count(*)::int as count, coalesce(sum(${auditEvents.latencyMs}), 0)::float8 as latency_sum,
        count(${auditEvents.latencyMs})::int as latency_count
      from ${auditEvents}
      where ${and(
        gte(auditEvents.time, filter.since),
        filter.until === undefined ? undefined : lt(auditEvents.time, filter.until),
        inArray(auditEvents.kind, [...EDGE_KINDS]),
        sql`${source} is not null`,
      )}
      group by 1, 2, 3, 4, 5
      order by count(*) desc
      limit ${MAX_EDGE_GROUPS}`),
  )
  return rows
    .filter((row) => isEdgeKind(row.kind))
    .map((row) => ({
      kind: row.kind as EdgeKind,
      outcome: row.outcome as AuditOutcome,
      source: row.source,
      target: row.target,
      channel: row.channel,
      count: Number(row.count),
      latencyMsSum: Number(row.latency_sum),
      latencyCount: Number(row.latency_count),
    }))
}
