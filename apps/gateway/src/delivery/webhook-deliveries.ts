import type { DeliveryStore, StoredDelivery } from '@parley/stores'
import type { Logger } from 'pino'
import type { DeliveryConfig } from '../config.js'
import { newId } from '../ids.js'
import { deliveryRetryDelayMs } from './delivery-outbound.js'

/** What one POST of a webhook delivery came to. */
export type WebhookAttemptResult =
  | { outcome: 'accepted' }
  /** Nothing to send any more (its webhook config was deleted): settled without a POST. */
  | { outcome: 'dropped'; reason: string }
  | { outcome: 'failed'; error: string }

export interface WebhookDeliveriesOptions {
  /** `delivery.maxRetries`, `retryDelay`, `retryBackoff`, `messageTtl`, `maxPendingPerRecipient`. */
  config: DeliveryConfig
  /** The delivery store of the gateway's delivery backend (the one the dead-letter admin API reads). */
  deliveries: () => DeliveryStore
  /** One attempt: POSTs the delivery. Never throws (a failure is `failed`). */
  attempt(delivery: StoredDelivery): Promise<WebhookAttemptResult>
  /** A delivery moved to the dead-letter queue. */
  deadLettered(delivery: StoredDelivery): void
  logger: Logger
}

/**
 * The start of every webhook recipient's name: no client id may contain a `/`, so the delivery engine never
 * hands a webhook delivery to a connection.
 */
export const WEBHOOK_RECIPIENT_PREFIX = 'webhook/'
/** Recipients resumed at start-up, at most. */
const MAX_RESUMED_RECIPIENTS = 10_000

export interface WebhookEnqueueInput {
  /** `webhook/…` (`WEBHOOK_RECIPIENT_PREFIX`). */
  recipient: string
  source: string
  data: unknown
  /** A repeat within `delivery.dedupeWindow` is not queued again. */
  idempotencyKey: string
}

/**
 * Webhook deliveries (A2A push notifications) on the delivery store the connection engine uses: each POST is
 * a delivery of kind `webhook`, so it is durable, counted, retried with the engine's policy (`retryDelay` ×
 * `retryBackoff`^n, `maxRetries`), dead-lettered with the same reasons and requeued from the same admin API
 * and Deliveries page. The engine itself hands deliveries to connections and waits for acks; a webhook's ack
 * is its 2xx answer, so this module runs the attempts: one loop per recipient, one delivery at a time, so a
 * recipient's next delivery is not POSTed before the previous one was accepted or dead-lettered.
 */
export function createWebhookDeliveries(options: WebhookDeliveriesOptions) {
  const { config, logger } = options
  /** Recipients whose loop runs; `again` asks it to look once more before it ends. */
  const loops = new Map<string, { again: boolean }>()
  const running = new Set<Promise<void>>()
  const sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>()
  let stopped = false
  const counters = { enqueued: 0, accepted: 0, failedAttempts: 0, deadLettered: 0, dropped: 0 }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleeping.delete(entry)
          resolve()
        }, ms),
        wake: () => {
          clearTimeout(entry.timer)
          sleeping.delete(entry)
          resolve()
        },
      }
      entry.timer.unref()
      sleeping.add(entry)
    })
  }

  /** Attempts one delivery until it is accepted, dropped, dead-lettered or gone (expired, purged). */
  async function settle(recipient: string, first: StoredDelivery): Promise<void> {
    const store = options.deliveries()
    let delivery = first
    for (;;) {
      await store.markSent([delivery.id], Date.now())
      const result = await options.attempt(delivery)
      if (result.outcome !== 'failed') {
        await store.ack(recipient, [delivery.id])
        if (result.outcome === 'accepted') counters.accepted += 1
        else counters.dropped += 1
        return
      }
      counters.failedAttempts += 1
      const now = Date.now()
      const failures = delivery.failures + 1
      const waitMs = deliveryRetryDelayMs(config, failures)
      // The store's retry time stays `now`: the wait is kept here instead, so a recipient's oldest live delivery
      // is always the first `due()` returns (also after a restart, when it is retried at once): order holds.
      const updated = await store.fail(
        recipient,
        delivery.id,
        failures >= 1 + config.maxRetries ? { dead: 'max_retries' } : { retryAt: now },
        result.error,
        now,
      )
      if (updated === undefined) return
      if (updated.state === 'dead') {
        counters.deadLettered += 1
        options.deadLettered(updated)
        logger.info({ deliveryId: updated.id, recipient }, 'webhook delivery dead-lettered')
        return
      }
      await sleep(waitMs)
      if (stopped) return
      delivery = updated
    }
  }

  async function runLoop(recipient: string, state: { again: boolean }): Promise<void> {
    do {
      state.again = false
      for (;;) {
        if (stopped) return
        const [head] = await options.deliveries().due(recipient, Date.now(), 1)
        if (head === undefined) break
        await settle(recipient, head)
      }
    } while (state.again && !stopped)
  }

  /** Starts the recipient's loop, or asks the running one to look again. */
  function wake(recipient: string): void {
    if (stopped) return
    const existing = loops.get(recipient)
    if (existing !== undefined) {
      existing.again = true
      return
    }
    const state = { again: false }
    loops.set(recipient, state)
    const loop = runLoop(recipient, state)
      .catch((error: unknown) => logger.error({ err: error, recipient }, 'webhook delivery loop failed'))
      .finally(() => {
        loops.delete(recipient)
        running.delete(loop)
      })
    running.add(loop)
  }

  return {
    counters,
    wake,

    /** Stores one delivery (unless it repeats an idempotency key) and wakes its recipient. */
    async enqueue(input: WebhookEnqueueInput): Promise<{ queued: boolean }> {
      const store = options.deliveries()
      if ((await store.queued(input.recipient)) >= config.maxPendingPerRecipient) {
        logger.warn({ recipient: input.recipient }, 'webhook delivery dropped: too many waiting')
        return { queued: false }
      }
      const timestamp = Date.now()
      const [outcome] = await store.send([
        {
          kind: 'webhook',
          messageId: newId('msg'),
          deliveryId: newId('dlv'),
          recipient: input.recipient,
          source: input.source,
          data: input.data,
          timestamp,
          expiresAt: timestamp + config.messageTtl * 1000,
          receipt: false,
          idempotencyKey: input.idempotencyKey,
        },
      ])
      if (outcome === undefined || outcome.duplicate) return { queued: false }
      counters.enqueued += 1
      wake(input.recipient)
      return { queued: true }
    },

    /** Ends every loop (a retry's wait ends at once) and waits for the attempts in progress. */
    async stop(): Promise<void> {
      stopped = true
      for (const entry of [...sleeping]) entry.wake()
      while (running.size > 0) await Promise.allSettled([...running])
    },

    /**
     * Lets loops run; with `resume`, also wakes every webhook recipient with deliveries a previous process left
     * (the gateway passes it when no other node is alive, as those would be running them).
     */
    async start(startOptions: { resume: boolean }): Promise<void> {
      stopped = false
      if (!startOptions.resume) return
      let recipients: string[]
      try {
        recipients = await options
          .deliveries()
          .liveRecipients(WEBHOOK_RECIPIENT_PREFIX, MAX_RESUMED_RECIPIENTS)
      } catch (error) {
        // They are resumed by their next notification or a requeue instead.
        logger.warn({ err: error }, 'webhook deliveries left by the previous process were not resumed')
        return
      }
      for (const recipient of recipients) wake(recipient)
      if (recipients.length > 0) logger.info({ recipients: recipients.length }, 'resumed webhook deliveries')
    },
  }
}

export type WebhookDeliveries = ReturnType<typeof createWebhookDeliveries>
