import { setTimeout as delay } from 'node:timers/promises'
import { ParleyError, type PublishReceipt, type PushClient } from '@parley/client'

export interface PublishStreamOptions {
  channel: string
  /** Publishes kept in flight at once. */
  window: number
  /** Stop after this many publications (numbered 0 … count − 1); without it, publish until `stop()`. */
  count?: number
  /**
   * Publications numbered below this may go; the rest wait for `allow()`. Without it, no limit. A test that
   * sets it publishes the same amount however fast the machine is.
   */
  allowance?: number
  /** Idempotency keys are `<keyPrefix><n>`: the same for every retry of publication n. */
  keyPrefix: string
  /** Retries of one publication after retryable failures before giving up on it. */
  maxAttempts?: number
  /** Called once per publication when the gateway acknowledged it (`attempts` > 1: after a retry). */
  onAck?: (n: number, receipt: PublishReceipt, attempts: number) => void
}

export interface PublishStream {
  /** Acknowledged publications: n → receipt. */
  readonly acked: Map<number, PublishReceipt>
  /** Publications that failed for a reason that is not retryable, or ran out of attempts. */
  readonly failures: { n: number; error: unknown }[]
  /** Rejections that were retried (lost connection, timeout). */
  readonly retries: number
  /** Highest acknowledged offset. */
  readonly lastOffset: number
  /** Raises the allowance: publications numbered below `total` may go. */
  allow(total: number): void
  /** Ask the stream to stop issuing publications; resolves once every one in flight has settled. */
  stop(): Promise<void>
  /** Resolves once `count` publications have settled (or after `stop()`). */
  readonly done: Promise<void>
}

/**
 * Publishes `{ n }` to a channel with a window of concurrent publishes, the way a user must: a publish
 * rejected by a lost connection (or a timeout) may or may not have been stored, so it is retried with the
 * same idempotency key until the gateway acknowledges it.
 */
export function publishStream(client: PushClient, options: PublishStreamOptions): PublishStream {
  const acked = new Map<number, PublishReceipt>()
  const failures: { n: number; error: unknown }[] = []
  const maxAttempts = options.maxAttempts ?? 20
  let retries = 0
  let lastOffset = 0
  let next = 0
  let stopping = false
  let allowance = options.allowance ?? Number.POSITIVE_INFINITY
  // Lanes waiting for `allow()` (or `stop()`).
  const waiting: (() => void)[] = []
  const allowanceRaised = () => new Promise<void>((resolve) => waiting.push(resolve))
  const wake = () => {
    for (const resolve of waiting.splice(0)) resolve()
  }

  const publishOne = async (n: number): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const receipt = await client.publish(
          options.channel,
          { n },
          { idempotencyKey: `${options.keyPrefix}${n}` },
        )
        acked.set(n, receipt)
        if (receipt.offset !== undefined && receipt.offset > lastOffset) lastOffset = receipt.offset
        options.onAck?.(n, receipt, attempt)
        return
      } catch (error) {
        if (!(error instanceof ParleyError) || !error.retryable || attempt >= maxAttempts) {
          failures.push({ n, error })
          return
        }
        retries += 1
        // A rate-limit answer says when to come back; a lost connection needs no pause (the client queues
        // the retry until it is connected again).
        if (error.retryAfterMs !== undefined) await delay(error.retryAfterMs)
      }
    }
  }

  const lane = async (): Promise<void> => {
    while (!stopping && (options.count === undefined || next < options.count)) {
      if (next >= allowance) {
        await allowanceRaised()
        continue
      }
      const n = next
      next += 1
      await publishOne(n)
    }
  }
  const done = Promise.all(Array.from({ length: options.window }, lane)).then(() => {})

  return {
    acked,
    failures,
    get retries() {
      return retries
    },
    get lastOffset() {
      return lastOffset
    },
    allow(total) {
      allowance = Math.max(allowance, total)
      wake()
    },
    async stop() {
      stopping = true
      wake()
      await done
    },
    done,
  }
}
