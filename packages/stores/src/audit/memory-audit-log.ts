import type { AuditEvent, AuditPage } from '@parley/protocol'
import {
  type AuditChainStore,
  type ChainedAuditRow,
  canonicalAuditRow,
  chainHash,
  GENESIS_HASH,
  sha256Hex,
} from './audit-chain.js'
import { type AuditCursor, dateToMicros, decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js'
import { type AuditEdgeFilter, countAuditEdges } from './audit-edges.js'
import type { AuditFilter, AuditLog, AuditRecord, ConversationFilter } from './audit-log.js'
import { conversationParty, inConversation, normalizeAuditRecord, pageSize } from './audit-normalize.js'

export interface MemoryAuditLogOptions {
  /** Rows kept; the oldest recorded row is forgotten when a new one arrives beyond this. */
  maxRows?: number
}

interface StoredEvent {
  id: bigint
  timeMicros: bigint
  event: AuditEvent
  prevHash: string
  hash: string
}

/**
 * Audit log kept in a ring buffer, for tests and for gateways run without a database. Queries behave
 * exactly like the Postgres log's: same filters, same order, same cursor format.
 */
export function createMemoryAuditLog(options: MemoryAuditLogOptions = {}): AuditLog {
  const maxRows = Math.max(1, Math.trunc(options.maxRows ?? 10_000))
  const ring: (StoredEvent | undefined)[] = new Array(maxRows)
  let nextSlot = 0
  // Ids are the chain's seq: one writer, so rows are chained as they are recorded.
  let lastId = 0n
  let headHash = GENESIS_HASH

  const chain: AuditChainStore = {
    async readChain(afterSeq: bigint, limit: number): Promise<ChainedAuditRow[]> {
      const rows: ChainedAuditRow[] = []
      for (const stored of ring) {
        if (stored === undefined || stored.id <= afterSeq) continue
        rows.push({ ...stored.event, seq: stored.id, prevHash: stored.prevHash, hash: stored.hash })
      }
      rows.sort((a, b) => (a.seq < b.seq ? -1 : 1))
      return rows.slice(0, Math.max(1, limit))
    },
    async head() {
      return { seq: lastId, hash: headHash }
    },
    async prune(throughSeq: bigint): Promise<number> {
      let removed = 0
      ring.forEach((stored, slot) => {
        if (stored !== undefined && stored.id <= throughSeq) {
          ring[slot] = undefined
          removed += 1
        }
      })
      return removed
    },
  }

  return {
    chain,

    record(entry: AuditRecord): void {
      const row = normalizeAuditRecord(entry)
      const time = row.time.toISOString()
      lastId += 1n
      const prevHash = headHash
      headHash = chainHash(prevHash, lastId, sha256Hex(canonicalAuditRow({ ...row, time })))
      ring[nextSlot] = {
        id: lastId,
        timeMicros: dateToMicros(row.time),
        event: { ...row, id: lastId.toString(), time },
        prevHash,
        hash: headHash,
      }
      nextSlot = (nextSlot + 1) % maxRows
    },

    async flush(): Promise<void> {},

    async query(filter: AuditFilter): Promise<AuditPage> {
      const limit = pageSize(filter)
      const cursor = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor)
      const since = filter.since === undefined ? undefined : dateToMicros(filter.since)
      const until = filter.until === undefined ? undefined : dateToMicros(filter.until)
      const matching: StoredEvent[] = []
      for (const stored of ring) {
        if (stored === undefined) continue
        const { event } = stored
        if (filter.kind !== undefined && event.kind !== filter.kind) continue
        if (filter.principal !== undefined && event.principal !== filter.principal) continue
        if (filter.channel !== undefined && event.channel !== filter.channel) continue
        if (filter.target !== undefined && event.target !== filter.target) continue
        if (filter.correlationId !== undefined && event.correlationId !== filter.correlationId) continue
        if (since !== undefined && stored.timeMicros < since) continue
        if (until !== undefined && stored.timeMicros >= until) continue
        if (cursor !== undefined && !isBefore(stored, cursor)) continue
        matching.push(stored)
      }
      matching.sort(newestFirst)
      const page = matching.slice(0, limit)
      const last = page.at(-1)
      return {
        events: page.map((stored) => ({ ...stored.event })),
        nextCursor:
          matching.length > limit && last !== undefined
            ? encodeAuditCursor(last.event.time, last.event.id)
            : null,
      }
    },

    async conversation(filter: ConversationFilter): Promise<AuditPage> {
      const limit = pageSize(filter)
      const cursor = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor)
      const since = filter.since === undefined ? undefined : dateToMicros(filter.since)
      const newest = filter.order === 'newest'
      const a = conversationParty(filter.a)
      const b = conversationParty(filter.b)
      const matching: StoredEvent[] = []
      for (const stored of ring) {
        if (stored === undefined) continue
        if (!inConversation(stored.event, a, b)) continue
        if (since !== undefined && stored.timeMicros < since) continue
        // Strictly past the cursor's row, in the page's order.
        if (cursor !== undefined && !(newest ? isBefore(stored, cursor) : isAfter(stored, cursor))) continue
        matching.push(stored)
      }
      matching.sort(newest ? newestFirst : (left, right) => newestFirst(right, left))
      const page = matching.slice(0, limit)
      const last = page.at(-1)
      return {
        events: page.map((stored) => ({ ...stored.event })),
        nextCursor:
          matching.length > limit && last !== undefined
            ? encodeAuditCursor(last.event.time, last.event.id)
            : null,
      }
    },

    async edges(filter: AuditEdgeFilter) {
      const rows = function* () {
        for (const stored of ring) if (stored !== undefined) yield stored.event
      }
      return countAuditEdges(rows(), filter)
    },

    get dropped(): number {
      // Nothing is ever refused here; rows beyond `maxRows` are retention, not loss of new data.
      return 0
    },

    async close(): Promise<void> {},
  }
}

/** (time, id) strictly before the cursor in newest-first order. */
function isBefore(stored: StoredEvent, cursor: AuditCursor): boolean {
  if (stored.timeMicros !== cursor.timeMicros) return stored.timeMicros < cursor.timeMicros
  return stored.id < BigInt(cursor.id)
}

/** (time, id) strictly after the cursor in newest-first order. */
function isAfter(stored: StoredEvent, cursor: AuditCursor): boolean {
  if (stored.timeMicros !== cursor.timeMicros) return stored.timeMicros > cursor.timeMicros
  return stored.id > BigInt(cursor.id)
}

function newestFirst(a: StoredEvent, b: StoredEvent): number {
  if (a.timeMicros !== b.timeMicros) return a.timeMicros > b.timeMicros ? -1 : 1
  return a.id > b.id ? -1 : a.id < b.id ? 1 : 0
}
