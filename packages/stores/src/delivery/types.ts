import type { DeadLetter, DeadLetterPage, DeliveryKind } from '@parley/protocol'

/**
 * Contracts of the delivery stores: channel history (offsets, epochs, retention, idempotent publish) and
 * at-least-once deliveries (direct messages and durable subscriptions, acks, retries, dead letters).
 * Each has a memory and a Postgres implementation that pass the same behaviour suite. Structural
 * interfaces: any object with these methods works.
 *
 * Times are epoch milliseconds. Every method may be called concurrently; implementations keep the order of
 * calls for `publish` (a later call never gets a lower offset on the same channel).
 */

/** A position in a channel's stream. Offsets start at 1; offset 0 means "before the first publication". */
export interface StreamPosition {
  offset: number
  epoch: string
}

export interface RetentionPolicy {
  /** Publications kept per channel (0 keeps none). */
  size: number
  /** How long a publication is kept, in milliseconds. */
  ttlMs: number
}

export interface PublishInput {
  channel: string
  /** Message id, chosen by the caller (the gateway). */
  id: string
  /** Publisher's client id. */
  source: string
  data: unknown
  timestamp: number
  /** Scoped to the channel; a repeat within the dedupe window stores nothing and returns the first result. */
  idempotencyKey?: string
}

export interface StoredPublication {
  channel: string
  offset: number
  epoch: string
  id: string
  source: string
  data: unknown
  timestamp: number
}

export interface PublishOutcome {
  publication: StoredPublication
  /** True when the idempotency key was already used: `publication` is the first one, nothing was stored. */
  duplicate: boolean
  /** Deliveries created in the same commit for the channel's durable subscribers (none for duplicates). */
  deliveries: StoredDelivery[]
}

export type ReadSinceResult =
  | { recovered: true; publications: StoredPublication[]; position: StreamPosition }
  | { recovered: false; position: StreamPosition }

export interface HistoryStore {
  /**
   * Appends publications atomically (all or none), assigning each channel's next offsets in input order,
   * skipping duplicates of idempotency keys (also within one call), and creating one delivery per durable
   * subscriber of the channel (`expiresAt` = timestamp + messageTtl). Resolves once durable (committed).
   */
  publish(inputs: PublishInput[]): Promise<PublishOutcome[]>
  /** The channel's current position: its last offset (0 when it has none) and its epoch (created if new). */
  position(channel: string): Promise<StreamPosition>
  /**
   * Every retained publication after `since.offset`, in offset order, or `recovered: false` (and no
   * publications) when that is not the whole of what was missed: another epoch, `since.offset` ahead of
   * the stream, or older than the oldest publication still retained (size and TTL applied as of `now`).
   */
  readSince(channel: string, since: StreamPosition, now: number): Promise<ReadSinceResult>
  /** Deletes publications beyond their channel's retention and expired idempotency keys. Returns rows removed. */
  trim(now: number): Promise<number>
}

export type DeliveryState = 'pending' | 'inflight' | 'dead'

export interface StoredDelivery {
  /** Delivery id: one message to one recipient. Stays the same across redeliveries and requeues. */
  id: string
  messageId: string
  kind: DeliveryKind
  /** Recipient's stable client id. */
  recipient: string
  source: string
  /** The channel for durable channel deliveries; null for direct messages. */
  channel: string | null
  offset: number | null
  epoch: string | null
  data: unknown
  /** The message's timestamp. */
  createdAt: number
  expiresAt: number
  /** Times it was sent to a connection. */
  attempts: number
  /** Failed attempts (ack timeout or nack). */
  failures: number
  /** Not to be sent before this time. */
  nextAttemptAt: number
  state: DeliveryState
  /** The sender asked for receipts. */
  receipt: boolean
  lastError: string | null
  /** The sending agent of a message sent with `agent_send`; null otherwise. */
  fromAgent: string | null
  /** The trace id an `agent_send` carried; null otherwise. */
  traceId: string | null
}

export interface SendInput {
  /** Message id. */
  messageId: string
  /** Delivery id, chosen by the caller. */
  deliveryId: string
  recipient: string
  source: string
  data: unknown
  timestamp: number
  expiresAt: number
  receipt: boolean
  /** Scoped to (source, recipient); a repeat within the dedupe window returns the first delivery. */
  idempotencyKey?: string
  /**
   * Default `direct`. `webhook`: a notification the gateway POSTs to a URL itself (A2A push), to a recipient
   * named `webhook/…` that no client id can take; the delivery engine never hands it to a connection.
   */
  kind?: 'direct' | 'webhook'
  /** The sending agent (`agent_send`), kept with the delivery so every redelivery carries it. */
  fromAgent?: string
  /** The trace id of an `agent_send`, kept likewise. */
  traceId?: string
}

export interface SendOutcome {
  delivery: StoredDelivery
  duplicate: boolean
}

export interface DeadLetterFilter {
  recipient?: string
  channel?: string
  kind?: DeliveryKind
}

export interface DeadLetterListQuery extends DeadLetterFilter {
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string
  limit: number
}

export type FailOutcome = { retryAt: number } | { dead: 'max_retries' | 'rejected' }

/** A client id's durable subscription to a channel. */
export interface DurableSubscription {
  recipient: string
  channel: string
}

export interface DeliveryCounts {
  pending: number
  inflight: number
  deadLetters: number
  durableSubscriptions: number
}

export interface DeliveryStore {
  /** Stores direct messages atomically; resolves once durable. */
  send(inputs: SendInput[]): Promise<SendOutcome[]>
  /** Starts (idempotently) a durable subscription; later publications on the channel create deliveries. */
  subscribeDurable(recipient: string, channel: string, now: number): Promise<void>
  /** Ends one; resolves true when it existed. Its queued deliveries stay. */
  unsubscribeDurable(recipient: string, channel: string): Promise<boolean>
  durableSubscriptions(recipient: string): Promise<string[]>
  /**
   * Every durable subscription, by channel then recipient (byte order), at most `limit`: what the operator's
   * connection and channel lists show.
   */
  listDurableSubscriptions(limit: number): Promise<DurableSubscription[]>
  /**
   * Up to `limit` pending deliveries of `recipient` with `nextAttemptAt <= now` and `expiresAt > now`,
   * oldest first (by creation, then offset), excluding in-flight and dead ones.
   */
  due(recipient: string, now: number, limit: number): Promise<StoredDelivery[]>
  /** The earliest `nextAttemptAt` among the recipient's pending deliveries, or undefined when none. */
  nextDueAt(recipient: string): Promise<number | undefined>
  /** Pending plus in-flight deliveries of the recipient. */
  queued(recipient: string): Promise<number>
  /** Marks deliveries in flight (sent) and counts an attempt on each. */
  markSent(ids: string[], now: number): Promise<void>
  /** Puts in-flight deliveries back to pending without counting a failure (their connection closed). */
  release(ids: string[]): Promise<void>
  /** Releases every in-flight delivery: used at start-up, when the previous process ended without doing so. */
  releaseAll(): Promise<number>
  /**
   * The distinct recipients whose name starts with `prefix` and that have pending or in-flight deliveries, at
   * most `limit` (byte order on Postgres and memory; Redis returns some `limit` of them, sorted): used at
   * start-up to resume the gateway's own webhook deliveries.
   */
  liveRecipients(prefix: string, limit: number): Promise<string[]>
  /** Settles (deletes) the recipient's deliveries among `ids` that are pending or in flight; returns those. */
  ack(recipient: string, ids: string[]): Promise<StoredDelivery[]>
  /**
   * Counts a failure on an in-flight or pending delivery of `recipient` and either schedules the retry or
   * moves it to the dead-letter queue. Returns the updated delivery, or undefined when it is not there.
   */
  fail(
    recipient: string,
    id: string,
    outcome: FailOutcome,
    error: string | null,
    now: number,
  ): Promise<StoredDelivery | undefined>
  /** Removes pending and in-flight deliveries whose `expiresAt <= now`; returns them. */
  expire(now: number): Promise<StoredDelivery[]>
  listDeadLetters(query: DeadLetterListQuery): Promise<DeadLetterPage>
  getDeadLetter(id: string): Promise<DeadLetter | undefined>
  /** Makes a dead letter pending again: failures 0, nextAttemptAt now, expiresAt as given. False when unknown. */
  requeue(id: string, now: number, expiresAt: number): Promise<StoredDelivery | undefined>
  /** Deletes one dead letter (by id) or all matching a filter; returns how many. */
  purgeDeadLetters(target: { id: string } | DeadLetterFilter): Promise<number>
  counts(): Promise<DeliveryCounts>
}

/** The two stores of one backend; `close` stops their timers and batchers (not the database). */
export interface DeliveryBackend {
  readonly name: 'memory' | 'postgres' | 'redis'
  readonly history: HistoryStore
  readonly deliveries: DeliveryStore
  /**
   * Checks that the backend's own server answers (readiness probes); absent when the backend lives in
   * memory or on the gateway's database, which is probed on its own.
   */
  ping?(): Promise<void>
  close(): Promise<void>
}

export interface DeliveryBackendOptions {
  /** Retention of a channel's history. */
  retention: (channel: string) => RetentionPolicy
  /** How long idempotency keys are remembered, in milliseconds. */
  dedupeWindowMs: number
  /** Message TTL for deliveries created by durable subscriptions, in milliseconds. */
  messageTtlMs: number
  /** Creates delivery ids for durable fan-out; defaults to `dlv_` + random. */
  newDeliveryId?: () => string
}
