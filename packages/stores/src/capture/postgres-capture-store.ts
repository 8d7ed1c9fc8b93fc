import { and, asc, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type ExchangeCaptureRow, exchangeCaptures } from '../schema.js'
import {
  type CapturedStep,
  type CaptureQuery,
  type CaptureRecord,
  type CaptureStep,
  type CaptureStore,
  captureFields,
  capturePageSize,
} from './capture-store.js'

// Bounds one INSERT's parameters (15 per row, below Postgres's 65,535).
const ROWS_PER_INSERT = 1_000

/** Capture store on the `exchange_captures` table (migration 0012). */
export function createPostgresCaptureStore(database: ParleyDatabase): CaptureStore {
  const { db } = database

  const readSteps = async (condition: SQL | undefined): Promise<CapturedStep[]> => {
    const rows = await db
      .select()
      .from(exchangeCaptures)
      .where(condition)
      .orderBy(asc(exchangeCaptures.stepIndex), asc(exchangeCaptures.id))
    return rows.map(fromRow)
  }

  return {
    async append(records: readonly CaptureRecord[]): Promise<void> {
      for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
        await db.insert(exchangeCaptures).values(
          records.slice(start, start + ROWS_PER_INSERT).map((record) => ({
            ...captureFields(record),
            offsetMs: Math.max(0, Math.round(record.offsetMs)),
          })),
        )
      }
    },

    exchange(correlationId: string): Promise<CapturedStep[]> {
      return readSteps(eq(exchangeCaptures.correlationId, correlationId))
    },

    async exchanges(query: CaptureQuery): Promise<CapturedStep[][]> {
      const a = [...query.a]
      const b = [...query.b]
      if (a.length === 0 || b.length === 0) return []
      const requests = await db
        .select({ correlationId: exchangeCaptures.correlationId })
        .from(exchangeCaptures)
        .where(
          and(
            eq(exchangeCaptures.step, 'request'),
            or(
              and(inArray(exchangeCaptures.caller, a), inArray(exchangeCaptures.agentId, b)),
              and(inArray(exchangeCaptures.caller, b), inArray(exchangeCaptures.agentId, a)),
            ),
            query.before === undefined ? undefined : lt(exchangeCaptures.time, query.before),
          ),
        )
        .orderBy(desc(exchangeCaptures.time), desc(exchangeCaptures.id))
        .limit(capturePageSize(query.limit))
      const ids = requests.map((row) => row.correlationId)
      if (ids.length === 0) return []
      const steps = await readSteps(inArray(exchangeCaptures.correlationId, ids))
      return ids.map((id) => steps.filter((step) => step.correlationId === id))
    },

    async prune(before: Date): Promise<number> {
      const deleted = await db
        .delete(exchangeCaptures)
        .where(lt(exchangeCaptures.time, before))
        .returning({ id: exchangeCaptures.id })
      return deleted.length
    },
  }
}

function fromRow(row: ExchangeCaptureRow): CapturedStep {
  return {
    id: String(row.id),
    time: row.time,
    correlationId: row.correlationId,
    step: row.step as CaptureStep,
    stepIndex: row.stepIndex,
    caller: row.caller,
    agentId: row.agentId,
    instanceId: row.instanceId,
    node: row.node,
    traceId: row.traceId,
    offsetMs: row.offsetMs,
    size: row.size,
    payload: row.payload,
    redacted: row.redacted,
    truncated: row.truncated,
  }
}
