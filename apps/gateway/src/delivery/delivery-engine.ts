import {
  type AckFrame,
  type DeliveryStats,
  encodeFrame,
  type NackFrame,
  type ReceiptStatus,
} from '@parley/protocol'
import type { DeliveryBackend, StoredDelivery } from '@parley/stores'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { DeliveryConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import type { Connection } from '../peers/connection.js'
import type { GatewayTracing } from '../tracing/gateway-tracing.js'
import { deliveryFrame, deliveryRetryDelayMs, receiptFrame } from './delivery-outbound.js'
import { createDirectSends } from './direct-sends.js'

/** How often expired deliveries are removed (and counted). */
const DEFAULT_EXPIRY_SWEEP_MS = 1_000
/** How often channel history beyond its retention is deleted. */
const DEFAULT_HISTORY_TRIM_MS = 30_000

export interface DeliveryCounters {
  enqueued: number
  delivered: number
  acked: number
  nacked: number
  redeliveries: number
  ackTimeouts: number
  deadLettered: number
  expired: number
  requeued: number
  duplicatesSuppressed: number
}

export interface DeliveryEngineOptions {
  config: DeliveryConfig
  /** The open backend; throws `unavailable` before the gateway has started. */
  backend: () => DeliveryBackend
  /** The connection that receives a client id's deliveries: its latest open one. */
  connectionFor: (clientId: string) => Connection | undefined
  /** A recipient not connected here got deliveries: wake the node that holds it (several nodes). */
  wakeElsewhere?: (clientId: string) => void
  /** Hands a receipt to a sender connected to another node (several nodes). */
  sendElsewhere?: (clientId: string, frame: string) => void
  logger: Logger
  audit: ConnectionAudit
  expirySweepMs?: number
  historyTrimMs?: number
  /** The spans of `send` (off unless an OTLP endpoint is configured). */
  tracing?: GatewayTracing
}

/** A delivery handed to a connection and waiting for its ack. */
interface InflightDelivery {
  delivery: StoredDelivery
  attempt: number
  connection: Connection
  deadline: number
}

/** What the engine keeps per recipient client id while it is online or has deliveries in flight. */
interface RecipientState {
  readonly clientId: string
  readonly inflight: Map<string, InflightDelivery>
  pumping: boolean
  /** Set when more may be sendable while a pump is running: it loops once more. */
  again: boolean
  timer: NodeJS.Timeout | undefined
  /** The time of the last `due()` read: a delivery due by then that it did not return has expired. */
  checkedAt: number
}

/**
 * At-least-once delivery of direct messages and durable channel deliveries. The store keeps every
 * delivery; the engine decides when to send what: per recipient, the latest open connection with its
 * client id gets up to `maxInflight` unacknowledged deliveries, each with an ack deadline. One timer per
 * recipient wakes it for its next deadline or retry; a shared sweep expires old deliveries.
 */
export function createDeliveryEngine(options: DeliveryEngineOptions) {
  const { config, backend, connectionFor, logger, audit } = options
  const ackTimeoutMs = config.ackTimeout * 1000
  const messageTtlMs = config.messageTtl * 1000
  const recipients = new Map<string, RecipientState>()
  const running = new Set<Promise<unknown>>()
  const counters: DeliveryCounters = {
    enqueued: 0,
    delivered: 0,
    acked: 0,
    nacked: 0,
    redeliveries: 0,
    ackTimeouts: 0,
    deadLettered: 0,
    expired: 0,
    requeued: 0,
    duplicatesSuppressed: 0,
  }
  let stopped = true
  let expiryTimer: NodeJS.Timeout | undefined
  let trimTimer: NodeJS.Timeout | undefined
  let sweeping = false
  let trimming = false

  /** Runs background work so `stop()` can wait for it; failures are logged, never thrown. */
  function track(task: Promise<unknown>, what: string): void {
    const tracked = task.catch((error: unknown) => logger.error({ err: error }, `delivery ${what} failed`))
    running.add(tracked)
    void tracked.finally(() => running.delete(tracked))
  }

  function stateOf(clientId: string): RecipientState {
    let state = recipients.get(clientId)
    if (state === undefined) {
      state = {
        clientId,
        inflight: new Map(),
        pumping: false,
        again: false,
        timer: undefined,
        checkedAt: Number.NEGATIVE_INFINITY,
      }
      recipients.set(clientId, state)
    }
    return state
  }

  /** Forgets a recipient that is offline with nothing in flight (its deliveries stay in the store). */
  function forgetIfIdle(state: RecipientState): void {
    if (state.pumping || state.inflight.size > 0 || connectionFor(state.clientId) !== undefined) return
    clearTimeout(state.timer)
    state.timer = undefined
    recipients.delete(state.clientId)
  }

  function sendReceipt(delivery: StoredDelivery, status: ReceiptStatus, attempt: number): void {
    if (!delivery.receipt) return
    const frame = receiptFrame(delivery, status, attempt)
    const sender = connectionFor(delivery.source)
    if (sender !== undefined) sender.sendFrame(frame)
    else options.sendElsewhere?.(delivery.source, encodeFrame(frame))
  }

  /** Sends what is due to the recipient's connection, as long as it has room in flight. */
  function pump(clientId: string): void {
    if (stopped) return
    const state = stateOf(clientId)
    if (state.pumping) {
      state.again = true
      return
    }
    state.pumping = true
    track(
      runPump(state).finally(() => {
        state.pumping = false
        forgetIfIdle(state)
      }),
      'dispatch',
    )
  }

  async function runPump(state: RecipientState): Promise<void> {
    do {
      state.again = false
      await sendDue(state)
      if (!state.again) await schedule(state)
    } while (state.again && !stopped)
  }

  async function sendDue(state: RecipientState): Promise<void> {
    state.checkedAt = Number.NEGATIVE_INFINITY
    const connection = connectionFor(state.clientId)
    const room = config.maxInflight - state.inflight.size
    if (connection === undefined || room <= 0) return
    const { deliveries } = backend()
    const now = Date.now()
    const due = await deliveries.due(state.clientId, now, room)
    state.checkedAt = now
    if (due.length === 0) return
    const ids = due.map((delivery) => delivery.id)
    await deliveries.markSent(ids, now)
    if (stopped || connectionFor(state.clientId) !== connection || !connection.isOpen) {
      // The connection went away while the store marked them: back to pending for the next one.
      await deliveries.release(ids)
      state.again = !stopped
      return
    }
    const deadline = now + ackTimeoutMs
    for (const delivery of due) {
      // In flight here already: another node released it when a node died. Its deadline still runs here.
      if (state.inflight.has(delivery.id)) continue
      const attempt = delivery.attempts + 1
      state.inflight.set(delivery.id, { delivery, attempt, connection, deadline })
      connection.send(deliveryFrame(delivery, attempt))
      counters.delivered += 1
      if (attempt > 1) counters.redeliveries += 1
      sendReceipt(delivery, 'delivered', attempt)
    }
    if (due.length === room) state.again = true
  }

  /** Arms the recipient's one timer for its earliest ack deadline or next retry. */
  async function schedule(state: RecipientState): Promise<void> {
    let wakeAt = Number.POSITIVE_INFINITY
    for (const entry of state.inflight.values()) wakeAt = Math.min(wakeAt, entry.deadline)
    if (connectionFor(state.clientId) !== undefined && state.inflight.size < config.maxInflight) {
      const nextDue = await backend().deliveries.nextDueAt(state.clientId)
      // Due by the last due() read yet not returned: expired, and the sweep removes it. Due since then
      // (the store is slow, or a retry came due meanwhile): go round again instead of sleeping.
      if (nextDue !== undefined && nextDue > state.checkedAt) {
        if (nextDue <= Date.now()) state.again = true
        else wakeAt = Math.min(wakeAt, nextDue)
      }
    }
    clearTimeout(state.timer)
    state.timer = undefined
    if (wakeAt === Number.POSITIVE_INFINITY || stopped) return
    state.timer = setTimeout(() => wake(state), Math.max(0, wakeAt - Date.now()))
    state.timer.unref()
  }

  function wake(state: RecipientState): void {
    state.timer = undefined
    if (stopped) return
    const now = Date.now()
    const timedOut = [...state.inflight.values()].filter((entry) => entry.deadline <= now)
    for (const entry of timedOut) state.inflight.delete(entry.delivery.id)
    counters.ackTimeouts += timedOut.length
    if (timedOut.length === 0) {
      pump(state.clientId)
      return
    }
    track(
      Promise.all(timedOut.map((entry) => failAttempt(state, entry, 'ack timeout', undefined))).finally(() =>
        pumpHere(state.clientId),
      ),
      'ack timeout',
    )
  }

  /** Counts a failed attempt: schedules the retry, or dead-letters after 1 + maxRetries failures. */
  async function failAttempt(
    state: RecipientState,
    entry: InflightDelivery,
    reason: string,
    delayMs: number | undefined,
  ): Promise<boolean> {
    const now = Date.now()
    const failures = entry.delivery.failures + 1
    const outcome =
      failures >= 1 + config.maxRetries
        ? ({ dead: 'max_retries' } as const)
        : { retryAt: now + (delayMs ?? deliveryRetryDelayMs(config, failures)) }
    const updated = await backend().deliveries.fail(state.clientId, entry.delivery.id, outcome, reason, now)
    if (updated === undefined) return false
    if (updated.state === 'dead') {
      counters.deadLettered += 1
      audit.deadLetter(updated, 'max_retries')
      sendReceipt(updated, 'dead', updated.attempts)
      logger.info({ deliveryId: updated.id, recipient: updated.recipient }, 'delivery dead-lettered')
    }
    return true
  }

  async function sweepExpired(): Promise<void> {
    const expired = await backend().deliveries.expire(Date.now())
    if (expired.length === 0) return
    counters.expired += expired.length
    const touched = new Set<string>()
    for (const delivery of expired) {
      recipients.get(delivery.recipient)?.inflight.delete(delivery.id)
      sendReceipt(delivery, 'expired', delivery.attempts)
      touched.add(delivery.recipient)
    }
    for (const clientId of touched) if (recipients.has(clientId)) pump(clientId)
  }

  /**
   * After a failed attempt or a release here: the recipient may have moved to another node meanwhile, and
   * that node does not know its retry is coming. It is told, so it arms its own timer.
   */
  function pumpHere(clientId: string): void {
    pump(clientId)
    if (connectionFor(clientId) === undefined) options.wakeElsewhere?.(clientId)
  }

  /** Sends to a recipient connected here, or asks the node that holds it to. */
  function wakeRecipient(clientId: string): void {
    if (connectionFor(clientId) !== undefined) pump(clientId)
    else options.wakeElsewhere?.(clientId)
  }

  function requireEnabled(): void {
    if (!config.enabled) throw new GatewayError('unavailable', 'delivery guarantees are disabled')
  }

  const directSends = createDirectSends({
    config,
    backend,
    audit,
    counters,
    requireEnabled,
    wakeRecipient,
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  })

  return {
    counters,

    /** Starts the expiry and history-trim sweeps; the gateway calls it once the backend is open. */
    start(): void {
      stopped = false
      expiryTimer = setInterval(() => {
        if (sweeping) return
        sweeping = true
        track(
          sweepExpired().finally(() => {
            sweeping = false
          }),
          'expiry sweep',
        )
      }, options.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS)
      expiryTimer.unref()
      trimTimer = setInterval(() => {
        if (trimming) return
        trimming = true
        track(
          backend()
            .history.trim(Date.now())
            .finally(() => {
              trimming = false
            }),
          'history trim',
        )
      }, options.historyTrimMs ?? DEFAULT_HISTORY_TRIM_MS)
      trimTimer.unref()
    },

    /** Clears every timer and waits for work already started, so the backend can be closed after. */
    async stop(): Promise<void> {
      stopped = true
      clearInterval(expiryTimer)
      clearInterval(trimTimer)
      for (const state of recipients.values()) clearTimeout(state.timer)
      while (running.size > 0) await Promise.allSettled([...running])
      recipients.clear()
    },

    /** A connection completed its handshake: a client id it chose may have deliveries waiting. */
    attach(connection: Connection): void {
      if (connection.clientIdChosen) pump(connection.clientId)
    },

    /** A connection closed: what it had in flight goes back to pending, for the client id's next connection. */
    detach(connection: Connection): void {
      const state = recipients.get(connection.clientId)
      if (state === undefined) return
      const released: string[] = []
      for (const [id, entry] of state.inflight) {
        if (entry.connection !== connection) continue
        state.inflight.delete(id)
        released.push(id)
      }
      if (released.length === 0) {
        pump(state.clientId)
        return
      }
      track(
        backend()
          .deliveries.release(released)
          .finally(() => pumpHere(state.clientId)),
        'release',
      )
    },

    /** Deliveries created by a publication on a channel with durable subscribers. */
    enqueued(deliveries: StoredDelivery[]): void {
      counters.enqueued += deliveries.length
      const touched = new Set<string>()
      for (const delivery of deliveries) touched.add(delivery.recipient)
      for (const clientId of touched) wakeRecipient(clientId)
    },

    /** Wakes a recipient connected here (after a durable subscribe, a requeue, or a wake from another node). */
    pump(clientId: string): void {
      if (connectionFor(clientId) !== undefined) pump(clientId)
    },

    requireEnabled,

    ...directSends,

    /** `ack`: settles the connection's client id's deliveries among the ids, then sends more. */
    async ack(connection: Connection, frame: AckFrame): Promise<void> {
      const settled = config.enabled
        ? await backend().deliveries.ack(connection.clientId, frame.deliveryIds)
        : []
      const state = recipients.get(connection.clientId)
      for (const delivery of settled) {
        const entry = state?.inflight.get(delivery.id)
        state?.inflight.delete(delivery.id)
        sendReceipt(delivery, 'acked', entry?.attempt ?? delivery.attempts)
      }
      counters.acked += settled.length
      if (frame.id !== undefined) {
        connection.sendFrame({ type: 'reply', id: frame.id, result: { settled: settled.length } })
      }
      if (settled.length > 0) pump(connection.clientId)
    },

    /** `nack`: a failed attempt of a delivery in flight to this client id; retried after the delay. */
    async nack(connection: Connection, frame: NackFrame): Promise<void> {
      const state = recipients.get(connection.clientId)
      const entry = state?.inflight.get(frame.deliveryId)
      let settled = 0
      if (state !== undefined && entry !== undefined) {
        state.inflight.delete(frame.deliveryId)
        if (await failAttempt(state, entry, frame.reason ?? 'nack', frame.delayMs)) {
          settled = 1
          counters.nacked += 1
        }
        pump(state.clientId)
      }
      if (frame.id !== undefined) connection.sendFrame({ type: 'reply', id: frame.id, result: { settled } })
    },

    /** Makes a dead letter pending again with a fresh TTL; undefined when it is not in the queue. */
    async requeue(id: string): Promise<StoredDelivery | undefined> {
      const now = Date.now()
      const delivery = await backend().deliveries.requeue(id, now, now + messageTtlMs)
      if (delivery === undefined) return undefined
      counters.requeued += 1
      audit.requeue(delivery)
      wakeRecipient(delivery.recipient)
      return delivery
    },

    async stats(): Promise<DeliveryStats> {
      const current = backend()
      const counts = await current.deliveries.counts()
      return { backend: current.name, ...counts, counters: { ...counters } }
    },
  }
}

export type DeliveryEngine = ReturnType<typeof createDeliveryEngine>
