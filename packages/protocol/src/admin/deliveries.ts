import { z } from 'zod'

// ---------------------------------------------------------------- deliveries and dead letters

/** Live delivery counters (`GET /api/admin/deliveries`). Counters count since the gateway started. */
export const DeliveryStats = z.object({
  backend: z.enum(['memory', 'postgres', 'redis']),
  /** Deliveries waiting for their recipient or for a retry. */
  pending: z.number().int().nonnegative(),
  /** Deliveries sent and waiting for an ack. */
  inflight: z.number().int().nonnegative(),
  /** Dead letters currently in the queue. */
  deadLetters: z.number().int().nonnegative(),
  durableSubscriptions: z.number().int().nonnegative(),
  counters: z.object({
    enqueued: z.number().int().nonnegative(),
    delivered: z.number().int().nonnegative(),
    acked: z.number().int().nonnegative(),
    nacked: z.number().int().nonnegative(),
    redeliveries: z.number().int().nonnegative(),
    ackTimeouts: z.number().int().nonnegative(),
    deadLettered: z.number().int().nonnegative(),
    expired: z.number().int().nonnegative(),
    requeued: z.number().int().nonnegative(),
    duplicatesSuppressed: z.number().int().nonnegative(),
  }),
})
export type DeliveryStats = z.infer<typeof DeliveryStats>

/** `webhook`: an A2A push notification the gateway POSTs to a caller's URL. */
export const DELIVERY_KINDS = ['direct', 'channel', 'webhook'] as const
export const DeliveryKind = z.enum(DELIVERY_KINDS)
export type DeliveryKind = z.infer<typeof DeliveryKind>

/** Why a delivery was dead-lettered. */
export const DEAD_LETTER_REASONS = ['max_retries', 'rejected'] as const
export const DeadLetterReason = z.enum(DEAD_LETTER_REASONS)

export const DeadLetter = z.object({
  /** The delivery id; requeueing keeps it. */
  id: z.string(),
  messageId: z.string(),
  kind: DeliveryKind,
  recipient: z.string(),
  source: z.string(),
  channel: z.string().nullable(),
  data: z.unknown(),
  attempts: z.number().int().nonnegative(),
  reason: DeadLetterReason,
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deadAt: z.string(),
  /** Times it was requeued from the dead-letter queue; each requeue keeps `attempts` counting. */
  requeues: z.number().int().nonnegative().default(0),
  /** When it was last requeued; null when never. */
  requeuedAt: z.string().nullable().default(null),
  /** Attempts since the last requeue (all of `attempts` when never requeued). */
  attemptsThisLife: z.number().int().nonnegative().optional(),
})
export type DeadLetter = z.infer<typeof DeadLetter>

export const DeadLetterPage = z.object({
  deadLetters: z.array(DeadLetter),
  nextCursor: z.string().nullable(),
})
export type DeadLetterPage = z.infer<typeof DeadLetterPage>

/** Query string of `GET /api/admin/dlq` and `DELETE /api/admin/dlq` (purge; `cursor`/`limit` ignored). */
export const DeadLetterQuery = z.object({
  recipient: z.string().max(200).optional(),
  channel: z.string().max(200).optional(),
  kind: DeliveryKind.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})
export type DeadLetterQuery = z.infer<typeof DeadLetterQuery>

export const RequeueResult = z.object({ id: z.string(), requeued: z.literal(true) })
export type RequeueResult = z.infer<typeof RequeueResult>

export const PurgeResult = z.object({ purged: z.number().int().nonnegative() })
export type PurgeResult = z.infer<typeof PurgeResult>
