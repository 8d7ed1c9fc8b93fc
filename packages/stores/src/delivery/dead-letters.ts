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

/** The admin view of a dead delivery. */
export function toDeadLetter(delivery: StoredDelivery, reason: DeadReason, deadAt: number): DeadLetter {
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
  }
}
