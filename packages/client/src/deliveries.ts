import { RecentIds } from './recent-ids.js'

/**
 * `auto` (default): a delivery is acknowledged once every listener finished (their promises resolved), and
 * refused (nack, no delay) when one threw or rejected. `manual`: the listener settles it with `ack()` or
 * `nack()`; a listener that throws or rejects before settling still refuses it.
 */
export type AckMode = 'auto' | 'manual'

export interface NackOptions {
  /** Retry after this long instead of the gateway's backoff. Rounded and clamped to 0..24 h. */
  delayMs?: number
  /** Kept with the delivery (and shown in the dead-letter queue). Cut to 500 characters. */
  reason?: string
}

/**
 * Settles a delivery. The first call wins and returns true; later calls (and calls on a message that is not
 * a delivery) do nothing and return false.
 */
export interface DeliveryControls {
  ack(): boolean
  nack(options?: NackOptions): boolean
}

/** Where settlements go; the client sends them when it can and drops them otherwise (the gateway redelivers). */
export interface SettlementOutbox {
  ack(deliveryId: string): void
  nack(deliveryId: string, options: NackOptions): void
}

interface OpenDelivery {
  /** Normally one: the gateway keeps a delivery's id across redeliveries. A set in case it does not. */
  deliveryIds: Set<string>
}

const MAX_NACK_DELAY_MS = 24 * 3600 * 1000
const MAX_REASON_LENGTH = 500

/**
 * Runs a handler once per message however often the gateway (re)delivers it. A message is *open* from its
 * first delivery until it is settled; redeliveries meanwhile are folded into it (settled with it, never
 * handed to the listeners again). Acknowledged messages are remembered, so a later redelivery (our ack was
 * lost with the connection) is acknowledged at once. A refused message is forgotten: its retry runs the
 * handler again, which is what a nack asks for.
 */
export class DeliveryTracker {
  private readonly open = new Map<string, OpenDelivery>()
  private readonly handled: RecentIds

  constructor(
    private readonly outbox: SettlementOutbox,
    handledCapacity = 10_000,
  ) {
    this.handled = new RecentIds(handledCapacity)
  }

  /** Whether a delivery of `key` would be settled without running the handler. */
  isKnown(key: string): boolean {
    return this.open.has(key) || this.handled.has(key)
  }

  /**
   * Records a delivery of the message `key`. Returns the controls when its handler must run now; undefined
   * when the message was already handled (acknowledged again here) or is still being handled.
   */
  receive(key: string, deliveryId: string): DeliveryControls | undefined {
    if (this.handled.has(key)) {
      this.outbox.ack(deliveryId)
      return undefined
    }
    const existing = this.open.get(key)
    if (existing !== undefined) {
      existing.deliveryIds.add(deliveryId)
      return undefined
    }
    const delivery: OpenDelivery = { deliveryIds: new Set([deliveryId]) }
    this.open.set(key, delivery)
    let settled = false
    return {
      ack: () => {
        if (settled) return false
        settled = true
        this.open.delete(key)
        this.handled.add(key)
        for (const id of delivery.deliveryIds) this.outbox.ack(id)
        return true
      },
      nack: (options = {}) => {
        if (settled) return false
        settled = true
        this.open.delete(key)
        const clean = cleanNackOptions(options)
        for (const id of delivery.deliveryIds) this.outbox.nack(id, clean)
        return true
      },
    }
  }
}

/** Controls for a message that is not a delivery (no `deliveryId`): nothing to settle. */
export const NOT_A_DELIVERY: DeliveryControls = { ack: () => false, nack: () => false }

function cleanNackOptions(options: NackOptions): NackOptions {
  const clean: NackOptions = {}
  if (options.delayMs !== undefined && Number.isFinite(options.delayMs)) {
    clean.delayMs = Math.min(MAX_NACK_DELAY_MS, Math.max(0, Math.round(options.delayMs)))
  }
  if (options.reason !== undefined) clean.reason = String(options.reason).slice(0, MAX_REASON_LENGTH)
  return clean
}

/**
 * Gives `message` the delivery controls as non-enumerable methods: they work on the object the listeners
 * get, but stay out of `JSON.stringify`, spreads and deep equality, so a message still reads as its data.
 */
export function withControls<T extends object>(message: T, controls: DeliveryControls): T & DeliveryControls {
  return Object.defineProperties(message, {
    ack: { value: controls.ack, enumerable: false },
    nack: { value: controls.nack, enumerable: false },
  }) as T & DeliveryControls
}
