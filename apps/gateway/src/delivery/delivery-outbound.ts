import { encodeFrame, parseTraceparent, type ReceiptFrame, type ReceiptStatus } from '@parley/protocol'
import type { StoredDelivery } from '@parley/stores'
import type { DeliveryConfig } from '../config.js'

/** What `direct_message` carries for messages sent with `agent_send`; kept on the delivery row. */
export interface AgentMessageTags {
  fromAgent?: string
  traceId?: string
}

/** The wait before the next attempt after `failures` failed ones: `retryDelay` × `retryBackoff`^(failures − 1). */
export function deliveryRetryDelayMs(
  config: Pick<DeliveryConfig, 'retryDelay' | 'retryBackoff'>,
  failures: number,
): number {
  return config.retryDelay * 1000 * config.retryBackoff ** (failures - 1)
}

/**
 * The frame of one attempt: `direct_message` (with the sending agent and trace id the row keeps, so a
 * redelivery after a restart still has them) or `channel_message` for a durable subscriber.
 */
export function deliveryFrame(delivery: StoredDelivery, attempt: number): string {
  if (delivery.kind === 'direct') {
    return encodeFrame({
      type: 'direct_message',
      id: delivery.messageId,
      deliveryId: delivery.id,
      attempt,
      from: delivery.source,
      data: delivery.data,
      timestamp: delivery.createdAt,
      ...(delivery.fromAgent === null ? {} : { fromAgent: delivery.fromAgent }),
      ...traceFieldsOf(delivery.traceId),
    })
  }
  return encodeFrame({
    type: 'channel_message',
    channel: delivery.channel ?? '',
    data: delivery.data,
    id: delivery.messageId,
    source: delivery.source,
    timestamp: delivery.createdAt,
    ...(delivery.offset === null ? {} : { offset: delivery.offset }),
    ...(delivery.epoch === null ? {} : { epoch: delivery.epoch }),
    deliveryId: delivery.id,
    attempt,
  })
}

/** The receipt a sender who asked for them gets at each step of its message. */
export function receiptFrame(delivery: StoredDelivery, status: ReceiptStatus, attempt: number): ReceiptFrame {
  return {
    type: 'receipt',
    messageId: delivery.messageId,
    deliveryId: delivery.id,
    to: delivery.recipient,
    status,
    attempt,
    timestamp: Date.now(),
  }
}

/**
 * The trace fields of a direct message from what its row keeps: a W3C `traceparent` (a traced sender's)
 * gives both `traceId` and `traceparent`, any other value is the plain `traceId` it always was.
 */
function traceFieldsOf(stored: string | null): { traceId?: string; traceparent?: string } {
  if (stored === null) return {}
  const parsed = parseTraceparent(stored)
  return parsed === undefined ? { traceId: stored } : { traceId: parsed.traceId, traceparent: stored }
}
