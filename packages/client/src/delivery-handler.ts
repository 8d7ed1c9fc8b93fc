import type { ClientFrame } from '@parley/protocol'
import {
  type AckMode,
  type DeliveryControls,
  DeliveryTracker,
  type NackOptions,
  withControls,
} from './deliveries.js'
import { ParleyError } from './errors.js'
import type { Logger, PushClientEvents } from './push-client-types.js'
import { inProcessSpan } from './trace-context.js'
import type { TypedEmitter } from './typed-emitter.js'

// The protocol's limit of ids per `ack` frame.
const MAX_ACKS_PER_FRAME = 1_000

/** What the delivery handling needs from the client that owns the connection. */
export interface DeliveryHost {
  readonly emitter: TypedEmitter<PushClientEvents>
  readonly ackMode: AckMode
  isWelcomed(): boolean
  sendFrame(frame: ClientFrame): boolean
  log(level: keyof Logger, context: Record<string, unknown>, message: string): void
  reportError(error: ParleyError): void
}

type DeliveryEvent = 'channel_message' | 'direct_message'

/**
 * At-least-once deliveries (durable channel messages, direct messages): the listeners run once per message,
 * then the delivery is settled, acks batched into one frame per tick.
 */
export class DeliveryHandler {
  private readonly tracker: DeliveryTracker
  /** Delivery ids acknowledged during the current tick, sent together in one `ack` frame. */
  private ackQueue: string[] = []
  private ackTimer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly host: DeliveryHost) {
    this.tracker = new DeliveryTracker({
      ack: (deliveryId) => this.queueAck(deliveryId),
      nack: (deliveryId, nackOptions) => this.sendNack(deliveryId, nackOptions),
    })
  }

  /**
   * Runs the listeners once per message however often it is delivered, then settles the delivery: in auto
   * mode ack once every listener's promise resolved, nack when one failed (in either mode, unless a listener
   * settled it first).
   */
  handle<E extends DeliveryEvent>(
    event: E,
    fields: Omit<PushClientEvents[E], keyof DeliveryControls>,
    key: string,
    deliveryId: string,
  ): void {
    const { emitter } = this.host
    // Without a listener nobody handled it: leave it unacknowledged so the gateway delivers it again, maybe
    // to a listener registered by then, rather than acknowledging a message nobody saw.
    if (emitter.listenerCount(event) === 0 && !this.tracker.isKnown(key)) {
      this.host.log(
        'warn',
        { event, deliveryId },
        'a delivery arrived with no listener; it stays unacknowledged',
      )
      return
    }
    const controls = this.tracker.receive(key, deliveryId)
    if (controls === undefined) return
    const message = withControls(fields, controls) as PushClientEvents[E]
    // A durable channel delivery is processed under its channel's name, a direct message as `direct`.
    const destination = 'channel' in fields ? String(fields.channel) : 'direct'
    void inProcessSpan(fields, destination, () => emitter.emitAndWait(event, message)).then((failures) => {
      if (failures.length > 0) {
        const failure = failures[0]
        const settledNow = controls.nack({ reason: `handler failed: ${String(failure)}` })
        this.host.reportError(
          new ParleyError({
            code: 'internal',
            message: `a ${event} handler failed for message ${fields.id} (${settledNow ? 'refused for a retry' : 'already settled'}): ${String(failure)}`,
            retryable: true,
            cause: failure,
          }),
        )
        return
      }
      if (this.host.ackMode === 'auto') controls.ack()
    })
  }

  /**
   * The connection is over. Acks that did not go out die with it: the gateway redelivers, and the redelivery
   * is acknowledged without running the handler again.
   */
  dropQueuedAcks(): void {
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    this.ackQueue = []
  }

  /** Acks go out together: one frame per tick (or per 1,000 ids) instead of one per message. */
  private queueAck(deliveryId: string): void {
    if (!this.host.isWelcomed()) {
      this.host.log('debug', { deliveryId }, 'not connected: ack dropped, the gateway will redeliver')
      return
    }
    this.ackQueue.push(deliveryId)
    if (this.ackQueue.length >= MAX_ACKS_PER_FRAME) {
      this.flushAcks()
      return
    }
    this.ackTimer ??= setTimeout(() => this.flushAcks(), 0)
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    const ids = this.ackQueue
    this.ackQueue = []
    if (ids.length === 0 || !this.host.isWelcomed()) return
    for (let start = 0; start < ids.length; start += MAX_ACKS_PER_FRAME) {
      this.host.sendFrame({ type: 'ack', deliveryIds: ids.slice(start, start + MAX_ACKS_PER_FRAME) })
    }
  }

  private sendNack(deliveryId: string, options: NackOptions): void {
    if (!this.host.isWelcomed()) {
      this.host.log('debug', { deliveryId }, 'not connected: nack dropped, the gateway will redeliver')
      return
    }
    this.host.sendFrame({ type: 'nack', deliveryId, ...options })
  }
}
