import type { DeadLetter, DeadLetterPage } from '@parley/protocol'
import { and, asc, desc, eq, inArray, ne, type SQL, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyTransaction } from '../database.js'
import { deliveries, durableSubscriptions } from '../schema.js'
import { decodeDeadLetterCursor, encodeDeadLetterCursor } from './dead-letter-cursor.js'
import { deadLetterPageSize } from './dead-letters.js'
import { sendKeyScope } from './delivery-ids.js'
import type { GroupCommit } from './group-commit.js'
import { newDirectDelivery } from './new-deliveries.js'
import { claimBatchKeys, keyId, readHeldResults } from './postgres-idempotency-keys.js'
import {
  chunks,
  type DeliveryRecord,
  deliveryColumns,
  deliveryInsertRow,
  resultRows,
  storableJson,
  toDeadLetterRecord,
  toStoredDelivery,
} from './postgres-rows.js'
import type {
  DeadLetterFilter,
  DeliveryBackendOptions,
  DeliveryCounts,
  DeliveryStore,
  SendInput,
  SendOutcome,
  StoredDelivery,
} from './types.js'

const ROWS_PER_INSERT = 2_000
const ACKS_PER_STATEMENT = 5_000

/** `deliveryColumns` for a raw statement over `deliveries d`, named as `DeliveryRecord` expects. */
const RETURNED_DELIVERY_COLUMNS = sql.raw(
  [
    'd.id as "id"',
    'd.message_id as "messageId"',
    'd.kind as "kind"',
    'd.recipient as "recipient"',
    'd.source as "source"',
    'd.channel as "channel"',
    'd."offset" as "offset"',
    'd.epoch as "epoch"',
    'd.data::text as "data"',
    'd.created_at as "createdAt"',
    'd.expires_at as "expiresAt"',
    'd.attempts as "attempts"',
    'd.failures as "failures"',
    'd.next_attempt_at as "nextAttemptAt"',
    'd.state as "state"',
    'd.receipt as "receipt"',
    'd.last_error as "lastError"',
    'd.dead_reason as "deadReason"',
    'd.dead_at as "deadAt"',
    'd.from_agent as "fromAgent"',
    'd.trace_id as "traceId"',
    'd.requeues as "requeues"',
    'd.requeued_at as "requeuedAt"',
    'd.attempts_before_requeue as "attemptsBeforeRequeue"',
  ].join(', '),
)

export interface AckRequest {
  recipient: string
  ids: string[]
}

/** One group-commit transaction of sends: claims idempotency keys, then stores the new deliveries. */
export async function commitSends(
  tx: ParleyTransaction,
  inputs: SendInput[],
  options: Pick<DeliveryBackendOptions, 'dedupeWindowMs'>,
): Promise<SendOutcome[]> {
  const created = inputs.map((input) => newDirectDelivery(input, storableJson(input.data)))
  const { repeatOf, heldElsewhere } = await claimBatchKeys(tx, inputs, {
    scopeOf: (input) => sendKeyScope(input.source, input.recipient),
    dedupeWindowMs: options.dedupeWindowMs,
    resultOf: (index) => created[index],
  })
  const stored = created.filter((_, index) => !repeatOf.has(index) && !heldElsewhere.has(index))
  for (const chunk of chunks(stored, ROWS_PER_INSERT)) {
    if (chunk.length > 0) await tx.insert(deliveries).values(chunk.map(deliveryInsertRow))
  }
  const earlier = await readHeldResults(tx, heldElsewhere)
  const firstResultOf = (index: number): StoredDelivery =>
    (earlier.get(index) ?? created[index]) as StoredDelivery
  return inputs.map((_, index): SendOutcome => {
    const first = repeatOf.get(index)
    if (first !== undefined) return { delivery: { ...firstResultOf(first) }, duplicate: true }
    return { delivery: firstResultOf(index), duplicate: heldElsewhere.has(index) }
  })
}

/** One group-commit statement of acks: deletes every acked delivery; each goes to the first call that asked. */
export async function commitAcks(tx: ParleyTransaction, requests: AckRequest[]): Promise<StoredDelivery[][]> {
  const pairs = requests.flatMap((request) => request.ids.map((id) => ({ recipient: request.recipient, id })))
  const settled = new Map<string, StoredDelivery>()
  for (const chunk of chunks(pairs, ACKS_PER_STATEMENT)) {
    if (chunk.length === 0) continue
    // `using (values …)` rather than `(recipient, id) in (…)`: PGlite fails ("bad buffer ID") on long row lists.
    const values = sql.join(
      chunk.map((pair) => sql`(${pair.recipient}, ${pair.id})`),
      sql`, `,
    )
    const rows = resultRows<DeliveryRecord>(
      await tx.execute(
        sql`delete from ${deliveries} d using (values ${values}) as v(recipient, id) where d.recipient = v.recipient and d.id = v.id and d.state <> 'dead' returning ${RETURNED_DELIVERY_COLUMNS}`,
      ),
    )
    for (const row of rows) settled.set(keyId(row.recipient, row.id), toStoredDelivery(row))
  }
  return requests.map((request) => {
    const mine: StoredDelivery[] = []
    for (const id of request.ids) {
      const key = keyId(request.recipient, id)
      const delivery = settled.get(key)
      if (delivery === undefined) continue
      settled.delete(key)
      mine.push(delivery)
    }
    return mine
  })
}

/** Deliveries in the `deliveries` table; sends and acks go through their group commits. */
export function createPostgresDeliveryStore(
  database: ParleyDatabase,
  sends: GroupCommit<SendInput, SendOutcome>,
  acks: GroupCommit<AckRequest, StoredDelivery[]>,
): DeliveryStore {
  const { db } = database
  // Built once: each connection's pump asks for its client id's due deliveries and the next one's time.
  const dueQuery = db
    .select(deliveryColumns)
    .from(deliveries)
    .where(
      and(
        eq(deliveries.recipient, sql.placeholder('recipient')),
        eq(deliveries.state, 'pending'),
        sql`${deliveries.nextAttemptAt} <= ${sql.placeholder('now')}`,
        sql`${deliveries.expiresAt} > ${sql.placeholder('now')}`,
      ),
    )
    .orderBy(asc(deliveries.createdAt), sql`${deliveries.offset} asc nulls first`, asc(deliveries.seq))
    .limit(sql.placeholder('limit'))
    .prepare('parley_deliveries_due')
  const nextDueAtQuery = db
    .select({ next: sql<string | number | null>`min(${deliveries.nextAttemptAt})` })
    .from(deliveries)
    .where(and(eq(deliveries.recipient, sql.placeholder('recipient')), eq(deliveries.state, 'pending')))
    .prepare('parley_deliveries_next_due_at')

  function filterConditions(filter: DeadLetterFilter): (SQL | undefined)[] {
    return [
      filter.recipient === undefined ? undefined : eq(deliveries.recipient, filter.recipient),
      filter.channel === undefined ? undefined : eq(deliveries.channel, filter.channel),
      filter.kind === undefined ? undefined : eq(deliveries.kind, filter.kind),
    ]
  }

  return {
    send: (inputs) => sends.submit(inputs),

    async subscribeDurable(recipient, channel, now) {
      await db
        .insert(durableSubscriptions)
        .values({ recipient, channel, createdAt: now })
        .onConflictDoNothing()
    },

    async unsubscribeDurable(recipient, channel) {
      const removed = await db
        .delete(durableSubscriptions)
        .where(and(eq(durableSubscriptions.recipient, recipient), eq(durableSubscriptions.channel, channel)))
        .returning({ channel: durableSubscriptions.channel })
      return removed.length > 0
    },

    async durableSubscriptions(recipient) {
      const rows = await db
        .select({ channel: durableSubscriptions.channel })
        .from(durableSubscriptions)
        .where(eq(durableSubscriptions.recipient, recipient))
        .orderBy(sql`${durableSubscriptions.channel} collate "C"`)
      return rows.map((row) => row.channel)
    },

    async listDurableSubscriptions(limit) {
      return db
        .select({ recipient: durableSubscriptions.recipient, channel: durableSubscriptions.channel })
        .from(durableSubscriptions)
        .orderBy(
          sql`${durableSubscriptions.channel} collate "C"`,
          sql`${durableSubscriptions.recipient} collate "C"`,
        )
        .limit(Math.max(0, Math.trunc(limit)))
    },

    async due(recipient, now, limit) {
      if (limit <= 0) return []
      const rows = await dueQuery.execute({ recipient, now, limit: Math.trunc(limit) })
      return rows.map((row) => toStoredDelivery(row as DeliveryRecord))
    },

    async nextDueAt(recipient) {
      const [row] = await nextDueAtQuery.execute({ recipient })
      return row?.next === null || row?.next === undefined ? undefined : Number(row.next)
    },

    async queued(recipient) {
      const [row] = await db
        .select({ count: sql<number>`count(*)::int` })
        .from(deliveries)
        .where(and(eq(deliveries.recipient, recipient), inArray(deliveries.state, ['pending', 'inflight'])))
      return row?.count ?? 0
    },

    async markSent(ids) {
      if (ids.length === 0) return
      await db
        .update(deliveries)
        .set({ state: 'inflight', attempts: sql`${deliveries.attempts} + 1` })
        .where(and(inArray(deliveries.id, ids), ne(deliveries.state, 'dead')))
    },

    async release(ids) {
      if (ids.length === 0) return
      await db
        .update(deliveries)
        .set({ state: 'pending' })
        .where(and(inArray(deliveries.id, ids), eq(deliveries.state, 'inflight')))
    },

    async releaseAll() {
      const released = await db
        .update(deliveries)
        .set({ state: 'pending' })
        .where(eq(deliveries.state, 'inflight'))
        .returning({ id: deliveries.id })
      return released.length
    },

    async liveRecipients(prefix, limit) {
      const rows = await db
        .select({ recipient: deliveries.recipient })
        .from(deliveries)
        .where(
          and(
            inArray(deliveries.state, ['pending', 'inflight']),
            sql`starts_with(${deliveries.recipient}, ${prefix})`,
          ),
        )
        .groupBy(deliveries.recipient)
        .orderBy(sql`${deliveries.recipient} collate "C"`)
        .limit(Math.max(0, Math.trunc(limit)))
      return rows.map((row) => row.recipient)
    },

    async ack(recipient, ids) {
      if (ids.length === 0) return []
      const [settled] = await acks.submit([{ recipient, ids }])
      return settled ?? []
    },

    async fail(recipient, id, outcome, error, now) {
      const dead = 'dead' in outcome
      // One statement: two concurrent fails of the last attempt serialize on the row, the second finds it dead.
      const [row] = await db
        .update(deliveries)
        .set({
          failures: sql`${deliveries.failures} + 1`,
          lastError: error,
          state: dead ? 'dead' : 'pending',
          ...(dead ? { deadReason: outcome.dead, deadAt: now } : { nextAttemptAt: outcome.retryAt }),
        })
        .where(and(eq(deliveries.id, id), eq(deliveries.recipient, recipient), ne(deliveries.state, 'dead')))
        .returning(deliveryColumns)
      return row === undefined ? undefined : toStoredDelivery(row as DeliveryRecord)
    },

    async expire(now) {
      const rows = await db
        .delete(deliveries)
        .where(and(ne(deliveries.state, 'dead'), sql`${deliveries.expiresAt} <= ${now}`))
        .returning(deliveryColumns)
      return rows.map((row) => toStoredDelivery(row as DeliveryRecord))
    },

    async listDeadLetters(query): Promise<DeadLetterPage> {
      const limit = deadLetterPageSize(query)
      const cursor = query.cursor === undefined ? undefined : decodeDeadLetterCursor(query.cursor)
      const rows = await db
        .select(deliveryColumns)
        .from(deliveries)
        .where(
          and(
            eq(deliveries.state, 'dead'),
            ...filterConditions(query),
            cursor === undefined
              ? undefined
              : sql`(${deliveries.deadAt}, ${deliveries.id} collate "C") < (${cursor.deadAt}::bigint, ${cursor.id} collate "C")`,
          ),
        )
        .orderBy(desc(deliveries.deadAt), sql`${deliveries.id} collate "C" desc`)
        .limit(limit + 1)
      const page = rows.slice(0, limit) as DeliveryRecord[]
      const last = page.at(-1)
      return {
        deadLetters: page.map(toDeadLetterRecord),
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodeDeadLetterCursor({ deadAt: Number(last.deadAt ?? 0), id: last.id })
            : null,
      }
    },

    async getDeadLetter(id): Promise<DeadLetter | undefined> {
      const [row] = await db
        .select(deliveryColumns)
        .from(deliveries)
        .where(and(eq(deliveries.id, id), eq(deliveries.state, 'dead')))
      return row === undefined ? undefined : toDeadLetterRecord(row as DeliveryRecord)
    },

    async requeue(id, now, expiresAt) {
      const [row] = await db
        .update(deliveries)
        .set({
          state: 'pending',
          failures: 0,
          nextAttemptAt: now,
          expiresAt,
          deadReason: null,
          deadAt: null,
          requeues: sql`${deliveries.requeues} + 1`,
          requeuedAt: now,
          attemptsBeforeRequeue: sql`${deliveries.attempts}`,
        })
        .where(and(eq(deliveries.id, id), eq(deliveries.state, 'dead')))
        .returning(deliveryColumns)
      return row === undefined ? undefined : toStoredDelivery(row as DeliveryRecord)
    },

    async purgeDeadLetters(target) {
      const conditions = 'id' in target ? [eq(deliveries.id, target.id)] : filterConditions(target)
      const removed = await db
        .delete(deliveries)
        .where(and(eq(deliveries.state, 'dead'), ...conditions))
        .returning({ id: deliveries.id })
      return removed.length
    },

    async counts(): Promise<DeliveryCounts> {
      const [states] = await db
        .select({
          pending: sql<number>`count(*) filter (where ${deliveries.state} = 'pending')::int`,
          inflight: sql<number>`count(*) filter (where ${deliveries.state} = 'inflight')::int`,
          deadLetters: sql<number>`count(*) filter (where ${deliveries.state} = 'dead')::int`,
        })
        .from(deliveries)
      const [subscriptions] = await db
        .select({ count: sql<number>`count(*)::int` })
        .from(durableSubscriptions)
      return {
        pending: states?.pending ?? 0,
        inflight: states?.inflight ?? 0,
        deadLetters: states?.deadLetters ?? 0,
        durableSubscriptions: subscriptions?.count ?? 0,
      }
    },
  }
}
