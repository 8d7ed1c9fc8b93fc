import type { ParleyDatabase } from '../database.js'
import { newDeliveryId } from './delivery-ids.js'
import { createGroupCommit } from './group-commit.js'
import {
  type AckRequest,
  commitAcks,
  commitSends,
  createPostgresDeliveryStore,
} from './postgres-delivery-store.js'
import { commitPublishes, createPostgresHistoryStore } from './postgres-history-store.js'
import { createPublishStatement } from './postgres-publish-statement.js'
import type {
  DeliveryBackend,
  DeliveryBackendOptions,
  PublishInput,
  PublishOutcome,
  SendInput,
  SendOutcome,
  StoredDelivery,
} from './types.js'

/** Inputs per group-commit transaction; bounds its statements and how long it holds the channel rows. */
const MAX_BATCH = 2_000

/**
 * History and deliveries in Postgres (a server or embedded PGlite), surviving restarts with their offsets
 * and epochs. Publishes, sends and acks are group-committed: concurrent calls share one transaction each
 * while the previous one is in flight, so throughput grows with concurrency instead of commit latency.
 * Several gateway nodes may share the database: offsets and idempotency keys are decided by row locks.
 */
export function createPostgresDeliveryBackend(
  database: ParleyDatabase,
  options: DeliveryBackendOptions,
): DeliveryBackend {
  const resolved = { ...options, newDeliveryId: options.newDeliveryId ?? newDeliveryId }
  // Inside a transaction only `tx` is used: embedded PGlite has one connection, and a query on the shared
  // handle there would wait for the transaction that waits for it.
  const publishStatement = createPublishStatement(database.db, resolved)
  const publishes = createGroupCommit<PublishInput, PublishOutcome>(async (inputs) => {
    // Without idempotency keys a batch is one statement; keys need the transaction's reads and writes.
    if (inputs.every((input) => input.idempotencyKey === undefined)) {
      const outcomes = await publishStatement.publish(inputs)
      if (outcomes !== undefined) return outcomes
    }
    const outcomes = await database.db.transaction((tx) => commitPublishes(tx, inputs, resolved))
    publishStatement.noteDurableCounts(inputs, outcomes)
    return outcomes
  }, MAX_BATCH)
  const sends = createGroupCommit<SendInput, SendOutcome>(
    (inputs) => database.db.transaction((tx) => commitSends(tx, inputs, resolved)),
    MAX_BATCH,
  )
  const acks = createGroupCommit<AckRequest, StoredDelivery[]>(
    (requests) => database.db.transaction((tx) => commitAcks(tx, requests)),
    MAX_BATCH,
  )
  return {
    name: 'postgres',
    history: createPostgresHistoryStore(database, resolved, publishes),
    deliveries: createPostgresDeliveryStore(database, sends, acks),
    async close(): Promise<void> {
      await Promise.all([publishes.close(), sends.close(), acks.close()])
    },
  }
}
