import type { SendFrame } from '@parley/protocol'
import type { DeliveryBackend, SendInput } from '@parley/stores'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { DeliveryConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import { newId } from '../ids.js'
import type { Connection } from '../peers/connection.js'
import { startMessagingSpan } from '../tracing/agent-spans.js'
import { endSpan, type GatewayTracing, noTracing, traceContextOf } from '../tracing/gateway-tracing.js'
import type { AgentMessageTags } from './delivery-outbound.js'

/** Suggested wait for a sender whose recipient has too many deliveries waiting. */
const RECIPIENT_FULL_RETRY_AFTER_MS = 1_000

export interface DirectSendsOptions {
  config: DeliveryConfig
  /** The open backend; throws `unavailable` before the gateway has started. */
  backend: () => DeliveryBackend
  audit: ConnectionAudit
  /** The engine's counters: `enqueued` and `duplicatesSuppressed` are counted here. */
  counters: { enqueued: number; duplicatesSuppressed: number }
  /** Throws `unavailable` while delivery guarantees are disabled. */
  requireEnabled: () => void
  /** Sends to a recipient connected here, or asks the node that holds it to. */
  wakeRecipient: (clientId: string) => void
  tracing?: GatewayTracing
}

/**
 * The entry of direct messages: `send` and `agent_send` store one delivery per recipient (refused while a
 * recipient already has `maxPendingPerRecipient` waiting), then wake the recipients. An agent message's
 * sending agent and trace id are columns of its rows, so every node and every later process reads them.
 */
export function createDirectSends(options: DirectSendsOptions) {
  const { config, backend, audit, counters, wakeRecipient } = options
  const messageTtlMs = config.messageTtl * 1000
  const tracing = options.tracing ?? noTracing

  async function refuseWhenFull(recipient: string): Promise<void> {
    if ((await backend().deliveries.queued(recipient)) < config.maxPendingPerRecipient) return
    throw new GatewayError(
      'rate_limited',
      `${recipient} already has ${config.maxPendingPerRecipient} deliveries waiting`,
      RECIPIENT_FULL_RETRY_AFTER_MS,
    )
  }

  function sendInput(
    recipient: string,
    fields: Omit<SendInput, 'deliveryId' | 'recipient' | 'expiresAt' | 'idempotencyKey'>,
    idempotencyKey: string | undefined,
  ): SendInput {
    return {
      ...fields,
      deliveryId: newId('dlv'),
      recipient,
      expiresAt: fields.timestamp + messageTtlMs,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    }
  }

  /** Stores a `send`'s delivery (with the sender's `traceparent`, kept as its trace id) and answers. */
  async function store(
    connection: Connection,
    frame: SendFrame,
    size: number,
    traceparent: string | undefined,
  ): Promise<void> {
    const timestamp = Date.now()
    const input = sendInput(
      frame.to,
      {
        messageId: newId('msg'),
        source: connection.clientId,
        data: frame.data,
        timestamp,
        receipt: frame.receipt ?? false,
        ...(traceparent === undefined ? {} : { traceId: traceparent }),
      },
      frame.idempotencyKey,
    )
    const [outcome] = await backend().deliveries.send([input])
    if (outcome === undefined) throw new Error('the delivery store returned no outcome for a send')
    const { delivery, duplicate } = outcome
    connection.sendFrame({
      type: 'reply',
      id: frame.id,
      result: {
        id: delivery.messageId,
        to: delivery.recipient,
        deliveryId: delivery.id,
        timestamp: delivery.createdAt,
        ...(duplicate ? { duplicate: true } : {}),
      },
    })
    if (duplicate) {
      counters.duplicatesSuppressed += 1
      return
    }
    counters.enqueued += 1
    audit.send(connection, frame.to, size)
    wakeRecipient(frame.to)
  }

  return {
    /** `send`: stores the direct message, answers, then hands it to the recipient if it is online. */
    async send(connection: Connection, frame: SendFrame, size: number): Promise<void> {
      options.requireEnabled()
      await refuseWhenFull(frame.to)
      const span = startMessagingSpan(tracing, frame, { operation: 'send', destination: frame.to })
      try {
        await store(connection, frame, size, traceContextOf(span, frame).traceparent)
        endSpan(span, 'ok')
      } catch (error) {
        endSpan(span, 'error')
        throw error
      }
    },

    /**
     * `agent_send`: stores one direct message per recipient client id (one message id), tagged with the
     * sending agent and trace id, and wakes the recipients. The caller answers the sender.
     */
    async sendToAgents(
      connection: Connection,
      input: {
        recipients: readonly string[]
        data: unknown
        tags: AgentMessageTags
        idempotencyKey?: string
        size: number
      },
    ): Promise<{ messageId: string; deliveryIds: string[]; timestamp: number }> {
      options.requireEnabled()
      for (const recipient of input.recipients) await refuseWhenFull(recipient)
      const timestamp = Date.now()
      const messageId = newId('msg')
      const { fromAgent, traceId } = input.tags
      const outcomes = await backend().deliveries.send(
        input.recipients.map((recipient) =>
          sendInput(
            recipient,
            {
              messageId,
              source: connection.clientId,
              data: input.data,
              timestamp,
              receipt: false,
              ...(fromAgent === undefined ? {} : { fromAgent }),
              ...(traceId === undefined ? {} : { traceId }),
            },
            input.idempotencyKey,
          ),
        ),
      )
      const deliveryIds: string[] = []
      for (const { delivery, duplicate } of outcomes) {
        deliveryIds.push(delivery.id)
        if (duplicate) {
          counters.duplicatesSuppressed += 1
          continue
        }
        counters.enqueued += 1
        audit.send(connection, delivery.recipient, input.size)
        wakeRecipient(delivery.recipient)
      }
      return { messageId, deliveryIds, timestamp }
    },
  }
}
