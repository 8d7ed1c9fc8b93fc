import type { AuditEvent, AuditKind, AuditOutcome, AuditPage } from '@parley/protocol'
import { and, eq, getTableName, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import type { ParleyDatabase } from '../database.js'
import { resultRows } from '../delivery/postgres-rows.js'
import { auditChainHead, auditEvents } from '../schema.js'
import { type AuditChainHead, canonicalAuditRow, chainHash, sha256Hex } from './audit-chain.js'
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js'
import { type AuditEdgeFilter, readAuditEdges } from './audit-edges.js'
import type { AuditFilter, AuditLog, AuditRecord, ConversationFilter } from './audit-log.js'
import {
  conversationParty,
  type NormalizedAuditRecord,
  normalizeAuditRecord,
  pageSize,
} from './audit-normalize.js'
import { createPostgresAuditChain } from './postgres-audit-chain.js'

export interface PostgresAuditLogOptions {
  /**
   * Rows per INSERT; a full batch is written without waiting for the timer. On a PostgreSQL server a backlog
   * of several full batches goes out in statements of up to 5,000 rows.
   */
  batchSize?: number
  /** Longest time a recorded row waits in the buffer before it is written. */
  flushIntervalMs?: number
  /** Rows the buffer holds; rows recorded beyond it are counted in `dropped`. */
  maxBuffer?: number
  /** Told about every batch that failed twice and was dropped. Must not throw (it is guarded anyway). */
  onError?: (error: unknown) => void
  /** Told the chain head after each batch committed (the gateway's checkpoints count rows with it). */
  onAppend?: (head: AuditChainHead) => void
}

export interface PostgresAuditLog extends AuditLog {
  /** Rows recorded but not yet written or dropped. */
  readonly buffered: number
}

// Bounds how long one batch holds the database.
const MAX_BATCH_SIZE = 5_000

/** The inserted columns, keyed by the field of a normalized record (or of the chain) that fills each. */
const insertedColumns: Record<keyof NormalizedAuditRecord | 'seq' | 'prevHash' | 'hash', PgColumn> = {
  time: auditEvents.time,
  kind: auditEvents.kind,
  outcome: auditEvents.outcome,
  principal: auditEvents.principal,
  clientId: auditEvents.clientId,
  connectionId: auditEvents.connectionId,
  channel: auditEvents.channel,
  target: auditEvents.target,
  size: auditEvents.size,
  detail: auditEvents.detail,
  traceId: auditEvents.traceId,
  correlationId: auditEvents.correlationId,
  latencyMs: auditEvents.latencyMs,
  seq: auditEvents.seq,
  prevHash: auditEvents.prevHash,
  hash: auditEvents.hash,
}

/**
 * One batch is one statement with one parameter: the rows as a JSON array, unpacked by
 * `json_to_recordset`. Building a multi-row VALUES list with Drizzle cost more CPU than the database spent
 * inserting the rows; `JSON.stringify` is native and the statement text never changes, so postgres.js
 * reuses its prepared statement. The same statement runs on PGlite and on a server.
 */
const insertBatchText = (() => {
  const entries = Object.entries(insertedColumns)
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
  const targets = entries.map(([, column]) => quote(column.name)).join(', ')
  const fields = entries.map(([field]) => quote(field)).join(', ')
  const recordType = entries.map(([field, column]) => `${quote(field)} ${column.getSQLType()}`).join(', ')
  return `insert into ${quote(getTableName(auditEvents))} (${targets}) select ${fields} from json_to_recordset($1::json) as batch(${recordType})`
})()
const [insertBatchHead = '', insertBatchTail = ''] = insertBatchText.split('$1')

/**
 * Locks the chain head (creating it on the first batch, from the last chained row if the row was lost) and
 * reads it. The row lock orders the batches of every node on one database: each reads the head the previous
 * batch committed (ON CONFLICT re-reads the row after waiting for its lock).
 */
const lockChainHead = sql`insert into ${auditChainHead} as head (id, seq, hash)
  select 1, coalesce(last.seq, 0), coalesce(last.hash, ${'0'.repeat(64)})
  from (select 1) as one
  left join lateral (select seq, hash from ${auditEvents} where seq is not null order by seq desc limit 1) as last on true
  on conflict (id) do update set seq = head.seq
  returning head.seq::text as seq, head.hash as hash`

/**
 * Audit log that buffers rows in memory and writes them to `audit_events` one INSERT per batch, off the
 * caller's path. `record` never waits and never throws; the buffer is bounded.
 */
export function createPostgresAuditLog(
  database: ParleyDatabase,
  options: PostgresAuditLogOptions = {},
): PostgresAuditLog {
  const { db } = database
  const batchSize = clampInteger(options.batchSize ?? 500, 1, MAX_BATCH_SIZE)
  const flushIntervalMs = clampInteger(options.flushIntervalMs ?? 250, 0, 60_000)
  const maxBuffer = clampInteger(options.maxBuffer ?? 50_000, 1, Number.MAX_SAFE_INTEGER)
  const { onError, onAppend } = options

  // The statement runs in the database's process (a PostgreSQL server, or embedded PGlite's worker thread):
  // a backlog goes out in statements of up to MAX_BATCH_SIZE rows, so one statement in flight writes as many
  // rows as the gateway records (at `batchSize` rows per statement a busy request path outran the writer and
  // the buffer overflowed).
  const rowsPerStatement = Math.max(batchSize, MAX_BATCH_SIZE)

  // Each row as the SHA-256 of its canonical JSON text (64 hex characters) followed by that text, serialised
  // and hashed when recorded: a batch is then one join plus one short hash per row to chain it, not one long
  // JSON.stringify on the event loop, and the buffer holds one string per row instead of an object graph.
  let buffer: string[] = []
  // Rows are numbered as they enter the buffer and settle (written or dropped) in that order, so a
  // flush only has to wait until the settled count reaches the count it saw when it was called.
  let recordedCount = 0
  let settledCount = 0
  let droppedCount = 0
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  let draining: Promise<void> | undefined
  const waiters: { target: number; resolve: () => void }[] = []

  function report(error: unknown): void {
    try {
      onError?.(error)
    } catch {
      // A failing error handler must not stop the writer.
    }
  }

  /** Appends the rows to the chain in one transaction: lock and read the head, insert, move the head. */
  async function insert(entries: string[]): Promise<void> {
    const head = await db.transaction(async (tx): Promise<AuditChainHead> => {
      const [locked] = resultRows<{ seq: string; hash: string }>(await tx.execute(lockChainHead))
      if (locked === undefined) throw new Error('the audit chain head could not be locked')
      let seq = BigInt(locked.seq)
      let prevHash = locked.hash
      const rows: string[] = new Array(entries.length)
      for (let index = 0; index < entries.length; index += 1) {
        const entry = entries[index] as string
        seq += 1n
        const hash = chainHash(prevHash, seq, entry.slice(0, 64))
        rows[index] = `${entry.slice(64, -1)},"seq":${seq},"prevHash":"${prevHash}","hash":"${hash}"}`
        prevHash = hash
      }
      const json = `[${rows.join(',')}]`
      await tx.execute(
        sql`with inserted as (${sql.raw(insertBatchHead)}${json}${sql.raw(insertBatchTail)} returning 1) update ${auditChainHead} set seq = ${seq.toString()}::bigint, hash = ${prevHash} where id = 1`,
      )
      return { seq, hash: prevHash }
    })
    try {
      onAppend?.(head)
    } catch (error) {
      report(error)
    }
  }

  async function writeBatch(rows: string[]): Promise<void> {
    try {
      await insert(rows)
      return
    } catch {
      // Retried once after one flush interval: a dropped connection or a failover often heals by then.
    }
    // A referenced timer: a shutdown waiting on `flush()` must not exit while the retry is pending.
    await new Promise<void>((resolve) => setTimeout(resolve, flushIntervalMs))
    try {
      await insert(rows)
    } catch (error) {
      droppedCount += rows.length
      report(error)
    }
  }

  function settle(count: number): void {
    settledCount += count
    for (let index = waiters.length - 1; index >= 0; index -= 1) {
      const waiter = waiters[index]
      if (waiter !== undefined && waiter.target <= settledCount) {
        waiters.splice(index, 1)
        waiter.resolve()
      }
    }
  }

  function armTimer(): void {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void drain()
    }, flushIntervalMs)
    // An idle audit log must not keep the process alive.
    timer.unref()
  }

  /**
   * Writes what is due: the first batch whatever its size (the timer or a full buffer called), then only
   * full batches (a server's statements take the whole backlog, up to 5,000 rows), unless a `flush()` waits
   * or the log is closing. Rows that arrived while a batch was written
   * wait for the next full batch or the timer instead of going out as a small batch of their own: under load
   * that halves the statements.
   */
  function drain(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    if (immediate !== undefined) {
      clearImmediate(immediate)
      immediate = undefined
    }
    draining ??= (async () => {
      try {
        let first = true
        while (buffer.length > 0 && (first || buffer.length >= batchSize || waiters.length > 0 || closed)) {
          if (!first) {
            // Lets sockets be served between batches when a backlog is written; PGlite answers without
            // yielding to I/O.
            await new Promise<void>((resolve) => setImmediate(resolve))
          }
          first = false
          const batch = buffer.length <= rowsPerStatement ? buffer : buffer.slice(0, rowsPerStatement)
          buffer = batch === buffer ? [] : buffer.slice(rowsPerStatement)
          await writeBatch(batch)
          settle(batch.length)
        }
      } catch (error) {
        // writeBatch catches database errors; this only guards against a bug losing the loop.
        report(error)
      } finally {
        draining = undefined
        // The rows left behind are due one flush interval from now at the latest.
        if (buffer.length > 0) armTimer()
      }
    })()
    return draining
  }

  function drainSoon(): void {
    // Deferred to the next turn so the caller's routing work is never delayed by building the INSERT.
    if (immediate !== undefined || draining !== undefined) return
    immediate = setImmediate(() => {
      immediate = undefined
      void drain()
    })
  }

  function flush(): Promise<void> {
    const target = recordedCount
    if (settledCount >= target) return Promise.resolve()
    const done = new Promise<void>((resolve) => waiters.push({ target, resolve }))
    void drain()
    return done
  }

  async function readPage(
    conditions: (SQL | undefined)[],
    direction: 'asc' | 'desc',
    limit: number,
  ): Promise<AuditPage> {
    const rows = await db
      .select({
        id: auditEvents.id,
        time: auditEvents.time,
        // Full microsecond precision for the cursor; a JS Date would round it to milliseconds.
        cursorTime: sql<string>`to_char(${auditEvents.time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        kind: auditEvents.kind,
        principal: auditEvents.principal,
        clientId: auditEvents.clientId,
        connectionId: auditEvents.connectionId,
        channel: auditEvents.channel,
        target: auditEvents.target,
        size: auditEvents.size,
        outcome: auditEvents.outcome,
        detail: auditEvents.detail,
        traceId: auditEvents.traceId,
        correlationId: auditEvents.correlationId,
        latencyMs: auditEvents.latencyMs,
      })
      .from(auditEvents)
      .where(and(...conditions))
      .orderBy(
        direction === 'desc'
          ? sql`${auditEvents.time} desc nulls last`
          : sql`${auditEvents.time} asc nulls first`,
        direction === 'desc'
          ? sql`${auditEvents.id} desc nulls last`
          : sql`${auditEvents.id} asc nulls first`,
      )
      .limit(limit + 1)
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      events: page.map(
        ({ cursorTime: _cursorTime, ...row }): AuditEvent => ({
          ...row,
          id: row.id.toString(),
          time: row.time.toISOString(),
          kind: row.kind as AuditKind,
          outcome: row.outcome as AuditOutcome,
        }),
      ),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeAuditCursor(last.cursorTime, last.id.toString())
          : null,
    }
  }

  return {
    chain: createPostgresAuditChain(database),

    record(entry: AuditRecord): void {
      if (closed || buffer.length >= maxBuffer) {
        droppedCount += 1
        return
      }
      try {
        // Dates become ISO 8601 strings; normalizeAuditRecord removed what JSON text cannot carry into `text`
        // (NUL characters and unpaired surrogates).
        const row = normalizeAuditRecord(entry)
        const json = canonicalAuditRow({ ...row, time: row.time.toISOString() })
        buffer.push(sha256Hex(json) + json)
      } catch {
        droppedCount += 1
        return
      }
      recordedCount += 1
      if (buffer.length >= batchSize) {
        drainSoon()
      } else if (draining === undefined) {
        armTimer()
      }
    },

    flush,

    async query(filter: AuditFilter): Promise<AuditPage> {
      const limit = pageSize(filter)
      const cursor = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor)
      const conditions: (SQL | undefined)[] = [
        filter.kind === undefined ? undefined : eq(auditEvents.kind, filter.kind),
        filter.principal === undefined ? undefined : eq(auditEvents.principal, filter.principal),
        filter.channel === undefined ? undefined : eq(auditEvents.channel, filter.channel),
        filter.target === undefined ? undefined : eq(auditEvents.target, filter.target),
        filter.correlationId === undefined ? undefined : eq(auditEvents.correlationId, filter.correlationId),
        filter.since === undefined ? undefined : gte(auditEvents.time, filter.since),
        filter.until === undefined ? undefined : lt(auditEvents.time, filter.until),
        cursor === undefined
          ? undefined
          : sql`(${auditEvents.time}, ${auditEvents.id}) < (${cursor.time}::timestamptz, ${cursor.id}::bigint)`,
      ]
      // NULLS LAST matches the indexes, so each filter reads its page straight from one index.
      return readPage(conditions, 'desc', limit)
    },

    async conversation(filter: ConversationFilter): Promise<AuditPage> {
      const limit = pageSize(filter)
      const cursor = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor)
      const newest = filter.order === 'newest'
      const a = [...conversationParty(filter.a)]
      const b = [...conversationParty(filter.b)]
      const from = (party: string[]) =>
        or(inArray(auditEvents.principal, party), inArray(auditEvents.clientId, party))
      const conditions: (SQL | undefined)[] = [
        // Each branch starts from the target index.
        or(and(inArray(auditEvents.target, b), from(a)), and(inArray(auditEvents.target, a), from(b))),
        filter.since === undefined ? undefined : gte(auditEvents.time, filter.since),
        cursor === undefined
          ? undefined
          : newest
            ? sql`(${auditEvents.time}, ${auditEvents.id}) < (${cursor.time}::timestamptz, ${cursor.id}::bigint)`
            : sql`(${auditEvents.time}, ${auditEvents.id}) > (${cursor.time}::timestamptz, ${cursor.id}::bigint)`,
      ]
      return readPage(conditions, newest ? 'desc' : 'asc', limit)
    },

    edges: (filter: AuditEdgeFilter) => readAuditEdges(database, filter),

    get dropped(): number {
      return droppedCount
    },

    get buffered(): number {
      return recordedCount - settledCount
    },

    get behind(): boolean {
      return recordedCount - settledCount >= maxBuffer / 2
    },

    async close(): Promise<void> {
      closed = true
      await flush()
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },
  }
}

function clampInteger(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min
  return Math.min(max, Math.max(min, Math.trunc(value)))
}
