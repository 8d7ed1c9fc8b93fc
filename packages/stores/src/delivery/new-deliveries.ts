import type { SendInput, StoredDelivery, StoredPublication } from './types.js'

/**
 * The first state of a delivery, shared by the memory and Postgres stores so both create the same rows:
 * pending, due at once, no attempts yet.
 */

/** A durable subscriber's delivery of a channel publication; it expires `messageTtlMs` after publishing. */
export function newChannelDelivery(
  id: string,
  recipient: string,
  publication: StoredPublication,
  messageTtlMs: number,
): StoredDelivery {
  return {
    id,
    messageId: publication.id,
    kind: 'channel',
    recipient,
    source: publication.source,
    channel: publication.channel,
    offset: publication.offset,
    epoch: publication.epoch,
    data: publication.data,
    createdAt: publication.timestamp,
    expiresAt: publication.timestamp + messageTtlMs,
    attempts: 0,
    failures: 0,
    nextAttemptAt: publication.timestamp,
    state: 'pending',
    receipt: false,
    lastError: null,
    fromAgent: null,
    traceId: null,
  }
}

/**
 * The delivery of a direct message (or a webhook notification, `kind: 'webhook'`); `data` is the value to
 * keep (Postgres stores `undefined` as null).
 */
export function newDirectDelivery(input: SendInput, data: unknown = input.data): StoredDelivery {
  return {
    id: input.deliveryId,
    messageId: input.messageId,
    kind: input.kind ?? 'direct',
    recipient: input.recipient,
    source: input.source,
    channel: null,
    offset: null,
    epoch: null,
    data,
    createdAt: input.timestamp,
    expiresAt: input.expiresAt,
    attempts: 0,
    failures: 0,
    nextAttemptAt: input.timestamp,
    state: 'pending',
    receipt: input.receipt,
    lastError: null,
    fromAgent: input.fromAgent ?? null,
    traceId: input.traceId ?? null,
  }
}
