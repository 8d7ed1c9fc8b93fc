import type { AuditKind, AuditOutcome } from '@parley/protocol'
import { sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { resultRows } from '../delivery/postgres-rows.js'
import { auditChainHead, auditEvents } from '../schema.js'
import {
  type AuditChainHead,
  type AuditChainStore,
  type ChainedAuditRow,
  canonicalTime,
  GENESIS_HASH,
} from './audit-chain.js'

/**
 * A chain row as the batch query returns it: a JSON array of texts in the query's column order (the time at
 * full precision, numbers in their decimal spelling, so ids and seqs of any size read back exactly).
 */
type ChainRowArray = [
  id: string,
  time: string,
  kind: string,
  outcome: string,
  principal: string | null,
  clientId: string | null,
  connectionId: string | null,
  channel: string | null,
  target: string | null,
  size: string | null,
  detail: string | null,
  traceId: string | null,
  correlationId: string | null,
  latencyMs: string | null,
  seq: string,
  prevHash: string | null,
  hash: string | null,
]

/**
 * The chain of `audit_events` as the verifier, the checkpoints and retention read it. Reads go straight to
 * the database (never through a log's buffer): call the log's `flush()` first to include what it holds.
 */
export function createPostgresAuditChain(database: ParleyDatabase): AuditChainStore {
  const { db } = database
  return {
    async readChain(afterSeq: bigint, limit: number): Promise<ChainedAuditRow[]> {
      // The whole batch comes back as one JSON text (an array of arrays of texts), parsed once by JSON.parse:
      // sending the rows as rows (17 columns each, one protocol message per row) cost the database ten times
      // more CPU than building the JSON, and the driver parsed every column on the event loop; an array of
      // texts per row costs the database a third less than `json_build_array` over the typed columns. JSON
      // carries the text fields exactly (the database stores no NUL or unpaired surrogate), so the canonical
      // form is unchanged.
      // No ORDER BY inside array_agg (it sorted every batch again): the rows come in the subquery's seq order,
      // and the loop below checks that they do. The two numbers are written into the text (a bigint and an
      // integer, digits only), not sent as parameters: an unprepared statement with parameters goes in two steps
      // (describe, then execute) that hold the read ahead back, and even prepared (prepared-statements.ts) the
      // walk measured slower (bench/README.md, "Audit verify scenario"); this also keeps it fast behind a pooler.
      const [result] = resultRows<{ rows: string }>(
        await db.execute(sql`select coalesce(array_to_json(array_agg(array[id::text,
            to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), kind, outcome, principal, client_id,
            connection_id, channel, target, size::text, detail, trace_id, correlation_id, latency_ms::text,
            seq::text, prev_hash, hash]))::text, '[]') as rows
          from (select * from ${auditEvents} where seq > ${sql.raw(afterSeq.toString())}::bigint
            order by ${auditEvents.seq} limit ${sql.raw(String(Math.max(1, Math.trunc(limit))))}) as batch`),
      )
      const rows = JSON.parse(result?.rows ?? '[]') as ChainRowArray[]
      // Built field by field: the walk reads 100,000 rows a second and more, so each copy counts.
      const chained: ChainedAuditRow[] = new Array(rows.length)
      let previousSeq = -1n
      let resorted = false
      for (let index = 0; index < rows.length; index += 1) {
        const row = rows[index] as ChainRowArray
        const seq = BigInt(row[14])
        if (seq < previousSeq && !resorted) {
          // array_agg gave the batch out of the subquery's order (never seen): put it back in seq order, once.
          // Equal seqs (a unique index dropped by hand) stay for the verifier to name.
          rows.sort((left, right) => (BigInt(left[14]) < BigInt(right[14]) ? -1 : 1))
          resorted = true
          index = -1
          previousSeq = -1n
          continue
        }
        previousSeq = seq
        const size = row[9]
        const latencyMs = row[13]
        chained[index] = {
          id: row[0],
          time: canonicalTime(row[1]),
          kind: row[2] as AuditKind,
          outcome: row[3] as AuditOutcome,
          principal: row[4],
          clientId: row[5],
          connectionId: row[6],
          channel: row[7],
          target: row[8],
          size: size === null ? null : Number(size),
          detail: row[10],
          traceId: row[11],
          correlationId: row[12],
          latencyMs: latencyMs === null ? null : Number(latencyMs),
          seq,
          prevHash: row[15] ?? '',
          hash: row[16] ?? '',
        }
      }
      return chained
    },

    async head(): Promise<AuditChainHead> {
      const [row] = resultRows<{ seq: string; hash: string }>(
        await db.execute(sql`select seq::text as seq, hash from ${auditChainHead} where id = 1`),
      )
      return row === undefined ? { seq: 0n, hash: GENESIS_HASH } : { seq: BigInt(row.seq), hash: row.hash }
    },

    async unchainedInsertion(): Promise<string | undefined> {
      // Rows from before the chain (migration 0011) have no seq and smaller ids than every chained row; one
      // without a seq after the chain began was put there by hand.
      const [row] = resultRows<{ id: string }>(
        await db.execute(sql`select id::text as id from ${auditEvents}
          where seq is null and id > (select min(id) from ${auditEvents} where seq is not null)
          order by ${auditEvents.id} limit 1`),
      )
      return row?.id
    },

    async prune(throughSeq: bigint): Promise<number> {
      // One statement, so the chain never starts anywhere but just after a checkpoint.
      const [row] = resultRows<{ count: number }>(
        await db.execute(sql`with removed as (delete from ${auditEvents}
          where seq <= ${throughSeq.toString()}::bigint
             or (seq is null and id < (select min(id) from ${auditEvents} where seq > ${throughSeq.toString()}::bigint))
          returning 1) select count(*)::int as count from removed`),
      )
      return row?.count ?? 0
    },
  }
}
