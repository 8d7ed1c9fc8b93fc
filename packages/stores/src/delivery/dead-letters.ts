import type { DeadLetter } from '@parley/protocol'
import type { DeadLetterListQuery, StoredDelivery } from './types.js'

export const DEFAULT_DEAD_LETTER_PAGE_SIZE = 50
export const MAX_DEAD_LETTER_PAGE_SIZE = 500

export type DeadReason = DeadLetter['reason']

/** The page size a query asks for, clamped to 1-500. */
export function deadLetterPageSize(query: DeadLetterListQuery): number {
  const { limit } = query
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return DEFAULT_DEAD_LETTER_PAGE_SIZE
  return Math.min(MAX_DEAD_LETTER_PAGE_SIZE, Math.max(1, Math.trunc(limit)))
}

/** How often a delivery was requeued from the dead-letter queue, and its attempts until the last time. */
export interface RequeueHistory {
  requeues: number
  /** Epoch ms of the last requeue; null when never requeued. */
  requeuedAt: number | null
  /** Attempts counted before the last requeue: `attempts` minus these is the current life's. */
  attemptsBeforeRequeue: number
}

export const NEVER_REQUEUED: RequeueHistory = { requeues: 0, requeuedAt: null, attemptsBeforeRequeue: 0 }

/** The history after one more requeue of `delivery` at `now`. */
export function requeuedOnce(history: RequeueHistory, delivery: StoredDelivery, now: number): RequeueHistory {
  return { requeues: history.requeues + 1, requeuedAt: now, attemptsBeforeRequeue: delivery.attempts }
}

/** The admin view of a dead delivery. */
export function toDeadLetter(
  delivery: StoredDelivery,
  reason: DeadReason,
  deadAt: number,
  history: RequeueHistory = NEVER_REQUEUED,
): DeadLetter {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    kind: delivery.kind,
    recipient: delivery.recipient,
    source: delivery.source,
    channel: delivery.channel,
    data: delivery.data,
    attempts: delivery.attempts,
    reason,
    lastError: delivery.lastError,
    createdAt: new Date(delivery.createdAt).toISOString(),
    deadAt: new Date(deadAt).toISOString(),
    requeues: history.requeues,
    requeuedAt: history.requeuedAt === null ? null : new Date(history.requeuedAt).toISOString(),
    attemptsThisLife: Math.max(0, delivery.attempts - history.attemptsBeforeRequeue),
  }
}
