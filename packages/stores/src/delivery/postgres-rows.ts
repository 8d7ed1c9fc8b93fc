import type { DeadLetter } from '@parley/protocol'
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import { deliveries } from '../schema.js'
import { type DeadReason, toDeadLetter } from './dead-letters.js'
import type { DeliveryState, StoredDelivery } from './types.js'

/**
 * Row mapping shared by the Postgres stores. JSON is read as text and parsed here: drizzle's jsonb mapping
 * parses strings again, which would turn a stored string "123" into the number 123.
 */

export function jsonText(column: SQLWrapper): SQL<string | null> {
  return sql<string | null>`${column}::text`
}

export function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text)
}

/** `undefined` has no JSON form; it is stored as null, as `JSON.stringify` would inside an object. */
export function storableJson(value: unknown): unknown {
  return value === undefined ? null : value
}

/** The columns a delivery is read with. */
export const deliveryColumns = {
  id: deliveries.id,
  messageId: deliveries.messageId,
  kind: deliveries.kind,
  recipient: deliveries.recipient,
  source: deliveries.source,
  channel: deliveries.channel,
  offset: deliveries.offset,
  epoch: deliveries.epoch,
  data: jsonText(deliveries.data),
  createdAt: deliveries.createdAt,
  expiresAt: deliveries.expiresAt,
  attempts: deliveries.attempts,
  failures: deliveries.failures,
  nextAttemptAt: deliveries.nextAttemptAt,
  state: deliveries.state,
  receipt: deliveries.receipt,
  lastError: deliveries.lastError,
  deadReason: deliveries.deadReason,
  deadAt: deliveries.deadAt,
  fromAgent: deliveries.fromAgent,
  traceId: deliveries.traceId,
  requeues: deliveries.requeues,
  requeuedAt: deliveries.requeuedAt,
  attemptsBeforeRequeue: deliveries.attemptsBeforeRequeue,
}

export interface DeliveryRecord {
  id: string
  messageId: string
  kind: string
  recipient: string
  source: string
  channel: string | null
  offset: number | null
  epoch: string | null
  data: string | null
  createdAt: number
  expiresAt: number
  attempts: number
  failures: number
  nextAttemptAt: number
  state: string
  receipt: boolean
  lastError: string | null
  deadReason: string | null
  deadAt: number | null
  fromAgent: string | null
  traceId: string | null
  requeues: number
  requeuedAt: number | null
  attemptsBeforeRequeue: number
}

export function toStoredDelivery(row: DeliveryRecord): StoredDelivery {
  return {
    id: row.id,
    messageId: row.messageId,
    kind: row.kind === 'channel' || row.kind === 'webhook' ? row.kind : 'direct',
    recipient: row.recipient,
    source: row.source,
    channel: row.channel,
    offset: row.offset === null ? null : Number(row.offset),
    epoch: row.epoch,
    data: parseJson(row.data),
    createdAt: Number(row.createdAt),
    expiresAt: Number(row.expiresAt),
    attempts: row.attempts,
    failures: row.failures,
    nextAttemptAt: Number(row.nextAttemptAt),
    state: row.state as DeliveryState,
    receipt: row.receipt,
    lastError: row.lastError,
    fromAgent: row.fromAgent,
    traceId: row.traceId,
  }
}

export function toDeadLetterRecord(row: DeliveryRecord): DeadLetter {
  return toDeadLetter(
    toStoredDelivery(row),
    (row.deadReason ?? 'rejected') as DeadReason,
    Number(row.deadAt ?? 0),
    {
      requeues: row.requeues,
      requeuedAt: row.requeuedAt === null ? null : Number(row.requeuedAt),
      attemptsBeforeRequeue: row.attemptsBeforeRequeue,
    },
  )
}

/** The insert row of a new delivery. */
export function deliveryInsertRow(delivery: StoredDelivery): typeof deliveries.$inferInsert {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    kind: delivery.kind,
    recipient: delivery.recipient,
    source: delivery.source,
    channel: delivery.channel,
    offset: delivery.offset,
    epoch: delivery.epoch,
    data: storableJson(delivery.data),
    createdAt: delivery.createdAt,
    expiresAt: delivery.expiresAt,
    attempts: delivery.attempts,
    failures: delivery.failures,
    nextAttemptAt: delivery.nextAttemptAt,
    state: delivery.state,
    receipt: delivery.receipt,
    lastError: delivery.lastError,
    fromAgent: delivery.fromAgent,
    traceId: delivery.traceId,
  }
}

/** Splits rows so one statement stays far below Postgres' 65,535 bind parameters; none for no rows. */
export function chunks<T>(items: T[], size: number): T[][] {
  if (items.length === 0) return []
  if (items.length <= size) return [items]
  const result: T[][] = []
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size))
  return result
}

/** The rows of a raw `execute`, on either driver (postgres-js answers an array, PGlite `{ rows }`). */
export function resultRows<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[]
  return ((result as { rows?: unknown[] }).rows ?? []) as Row[]
}
