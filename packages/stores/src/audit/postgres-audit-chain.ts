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
import type { NormalizedAuditRecord } from './audit-normalize.js'

/** A chain row as the query returns it: numbers beyond 2^53 and times at full precision as text. */
type ChainRowText = Omit<NormalizedAuditRecord, 'time' | 'kind' | 'outcome'> & {
  id: string
  time: string
  kind: string
  outcome: string
  seq: string
  prevHash: string | null
  hash: string | null
}

/**
 * The chain of `audit_events` as the verifier, the checkpoints and retention read it. Reads go straight to
 * the database (never through a log's buffer): call the log's `flush()` first to include what it holds.
 */
export function createPostgresAuditChain(database: ParleyDatabase): AuditChainStore {
  const { db } = database
  return {
    async readChain(afterSeq: bigint, limit: number): Promise<ChainedAuditRow[]> {
      const rows = resultRows<ChainRowText>(
        await db.execute(sql`select id::text as id,
          to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as time, kind, outcome, principal,
          client_id as "clientId", connection_id as "connectionId", channel, target, size, detail,
          trace_id as "traceId", correlation_id as "correlationId", latency_ms as "latencyMs",
          seq::text as seq, prev_hash as "prevHash", hash
          from ${auditEvents} where seq > ${afterSeq.toString()}::bigint order by ${auditEvents.seq} limit ${Math.max(1, Math.trunc(limit))}`),
      )
      // Built field by field: the walk reads 100,000 rows a second and more, so each copy counts.
      const chained: ChainedAuditRow[] = new Array(rows.length)
      for (let index = 0; index < rows.length; index += 1) {
        const row = rows[index] as ChainRowText
        chained[index] = {
          id: row.id,
          time: canonicalTime(row.time),
          kind: row.kind as AuditKind,
          outcome: row.outcome as AuditOutcome,
          principal: row.principal,
          clientId: row.clientId,
          connectionId: row.connectionId,
          channel: row.channel,
          target: row.target,
          size: row.size,
          detail: row.detail,
          traceId: row.traceId,
          correlationId: row.correlationId,
          latencyMs: row.latencyMs,
          seq: BigInt(row.seq),
          prevHash: row.prevHash ?? '',
          hash: row.hash ?? '',
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
