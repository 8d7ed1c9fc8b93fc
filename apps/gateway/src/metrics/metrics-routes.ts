import type { DeliveryStats } from '@parley/protocol'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { BusState } from '../bus/types.js'
import type { GatewayApp } from '../http/create-app.js'
import { type AgentMetricsDeps, registerAgentMetrics } from './agent-metrics.js'
import type { AuditMetrics } from './audit-metrics.js'
import type { BusMetrics } from './bus-metrics.js'
import type { HubStats } from './hub-stats.js'
import type { StoreMetrics } from './store-metrics.js'

export interface MetricsDeps {
  stats: () => HubStats
  auditDropped: () => number
  isDraining: () => boolean
  /** Delivery counts and counters; undefined while the delivery store is not open. */
  deliveryStats: () => Promise<DeliveryStats> | undefined
  /** The cluster bus state (`local`, `ok`, `degraded`). */
  busState?: () => BusState
  /** The agent layer's finished requests and gauges. */
  agents?: AgentMetricsDeps
  /** The audit trail's counts by kind, outcome and refusing rule. */
  audit?: AuditMetrics
  /** Open connections by transport, and the long-polling sessions. */
  transports?: () => TransportCounts
  /** Store call latencies. */
  stores?: StoreMetrics
  /** The shared bus's lag and reconnects. */
  bus?: BusMetrics
}

export interface TransportCounts {
  websocket: number
  polling: number
  pollingSessions: number
}

const PROMTOOL_MISNAMED = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/** How long a scrape waits for the delivery store's counts before it reports the last ones read. */
const DELIVERY_STATS_WAIT_MS = 500

type CounterName = Exclude<keyof HubStats, 'connections' | 'channels'>

/** Counters read from the hub's running totals at scrape time: name, help, and the field they mirror. */
const HUB_COUNTERS: ReadonlyArray<[string, string, CounterName]> = [
  ['parley_messages_published_total', 'Channel publications accepted.', 'messagesPublished'],
  [
    'parley_messages_delivered_total',
    'Frames handed to recipients by publications and broadcasts.',
    'messagesDelivered',
  ],
  ['parley_broadcasts_total', 'Broadcasts accepted.', 'broadcasts'],
  ['parley_frames_received_total', 'Frames received from clients.', 'framesIn'],
  ['parley_invalid_frames_total', 'Frames refused as malformed, unknown or oversized.', 'invalidFrames'],
  [
    'parley_slow_consumers_total',
    'Connections closed because their outbound buffer passed its bound.',
    'slowConsumers',
  ],
  ['parley_reaped_connections_total', 'Connections closed for missing heartbeats.', 'reaped'],
  [
    'parley_auth_failures_total',
    'Credentials refused at connect or on the admin API (wrong, missing, or the auth provider failed).',
    'authFailures',
  ],
  [
    'parley_auth_rate_limited_total',
    'Authentication attempts refused by the per-address failure limit before any check.',
    'authRateLimited',
  ],
]

type DeliveryCounterName = keyof DeliveryStats['counters']
type DeliveryGaugeName = Exclude<keyof DeliveryStats, 'backend' | 'counters'>

/** Delivery counters (since start): name, help, and the `DeliveryStats.counters` field they mirror. */
const DELIVERY_COUNTERS: ReadonlyArray<[string, string, DeliveryCounterName]> = [
  ['parley_deliveries_enqueued_total', 'Deliveries created (direct sends and durable fan-out).', 'enqueued'],
  ['parley_deliveries_delivered_total', 'Delivery attempts sent to a recipient connection.', 'delivered'],
  ['parley_deliveries_acked_total', 'Deliveries settled by an ack.', 'acked'],
  ['parley_deliveries_nacked_total', 'Delivery attempts refused with a nack.', 'nacked'],
  ['parley_deliveries_redeliveries_total', 'Delivery attempts after the first.', 'redeliveries'],
  ['parley_deliveries_ack_timeouts_total', 'Delivery attempts not acked within ackTimeout.', 'ackTimeouts'],
  ['parley_deliveries_dead_lettered_total', 'Deliveries moved to the dead-letter queue.', 'deadLettered'],
  ['parley_deliveries_expired_total', 'Deliveries dropped because their message TTL passed.', 'expired'],
  ['parley_deliveries_requeued_total', 'Dead letters requeued by an operator.', 'requeued'],
  [
    'parley_deliveries_duplicates_suppressed_total',
    'Publishes and sends answered as duplicates of an idempotency key.',
    'duplicatesSuppressed',
  ],
]

/** Delivery gauges (current values): name, help, and the `DeliveryStats` field they mirror. */
const DELIVERY_GAUGES: ReadonlyArray<[string, string, DeliveryGaugeName]> = [
  ['parley_deliveries_pending', 'Deliveries waiting for their recipient or a retry.', 'pending'],
  ['parley_deliveries_inflight', 'Deliveries sent and waiting for an ack.', 'inflight'],
  ['parley_deliveries_dead_letters', 'Dead letters in the queue.', 'deadLetters'],
  ['parley_deliveries_durable_subscriptions', 'Durable subscriptions.', 'durableSubscriptions'],
]

/**
 * Builds this gateway's own Prometheus registry. Values are read from the hub when Prometheus scrapes, so
 * the routing path pays nothing for metrics. A registry per gateway (not prom-client's global one) keeps
 * several gateways in one process, as in tests, apart.
 */
export function createMetricsRegistry(deps: MetricsDeps): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // prom-client's totals of active handles, requests and resources are gauges named like counters, which
  // `promtool check metrics` refuses; the same figures stay as nodejs_active_{handles,requests,resources}.
  for (const name of PROMTOOL_MISNAMED) registry.removeSingleMetric(name)
  new Gauge({
    name: 'parley_connections',
    help: 'Open WebSocket connections, including those still in the handshake.',
    registers: [registry],
    collect() {
      this.set(deps.stats().connections)
    },
  })
  new Gauge({
    name: 'parley_channels',
    help: 'Channels with at least one subscriber.',
    registers: [registry],
    collect() {
      this.set(deps.stats().channels)
    },
  })
  new Gauge({
    name: 'parley_draining',
    help: '1 while the gateway drains for shutdown, else 0.',
    registers: [registry],
    collect() {
      this.set(deps.isDraining() ? 1 : 0)
    },
  })
  if (deps.busState !== undefined) {
    const busState = deps.busState
    new Gauge({
      name: 'parley_bus_state',
      help: 'Cluster bus state: 1 for the current one of local, ok, degraded.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const current = busState()
        for (const state of ['local', 'ok', 'degraded'] as const)
          this.set({ state }, current === state ? 1 : 0)
      },
    })
  }
  for (const [name, help, field] of HUB_COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(deps.stats()[field])
      },
    })
  }
  // One store read at a time, shared by every delivery metric of the scrapes that wait on it. A scrape
  // waits for it at most DELIVERY_STATS_WAIT_MS, then reports the last values read: a store that hangs
  // must not hold /metrics (nor pile up reads, one per scrape).
  let lastStats: DeliveryStats | undefined
  let reading: Promise<void> | undefined
  const deliveryStats = async (): Promise<DeliveryStats | undefined> => {
    reading ??= Promise.resolve(deps.deliveryStats())
      .then(
        (stats) => {
          if (stats !== undefined) lastStats = stats
        },
        () => {},
      )
      .finally(() => {
        reading = undefined
      })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      reading,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DELIVERY_STATS_WAIT_MS)
      }),
    ])
    clearTimeout(timer)
    return lastStats
  }
  for (const [name, help, field] of DELIVERY_COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const stats = await deliveryStats()
        this.reset()
        if (stats !== undefined) this.inc(stats.counters[field])
      },
    })
  }
  for (const [name, help, field] of DELIVERY_GAUGES) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const stats = await deliveryStats()
        this.set(stats === undefined ? 0 : stats[field])
      },
    })
  }
  if (deps.agents !== undefined) registerAgentMetrics(registry, deps.agents)
  deps.audit?.register(registry)
  deps.stores?.register(registry)
  deps.bus?.register(registry)
  if (deps.transports !== undefined) registerTransportMetrics(registry, deps.transports)
  new Counter({
    name: 'parley_audit_dropped_total',
    help: 'Audit rows dropped because the buffer was full or a batch failed for good.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(deps.auditDropped())
    },
  })
  return registry
}

function registerTransportMetrics(registry: Registry, counts: () => TransportCounts): void {
  new Gauge({
    name: 'parley_connections_by_transport',
    help: 'Open connections by transport (websocket, polling), including those still in the handshake.',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      const current = counts()
      this.set({ transport: 'websocket' }, current.websocket)
      this.set({ transport: 'polling' }, current.polling)
    },
  })
  new Gauge({
    name: 'parley_polling_sessions',
    help: 'Long-polling sessions open on this node.',
    registers: [registry],
    collect() {
      this.set(counts().pollingSessions)
    },
  })
}

/** `GET /metrics` in the Prometheus text format. Counts only: no client ids, channel names or tokens. */
export function registerMetricsRoutes(app: GatewayApp, registry: Registry): void {
  app.get('/metrics', async (c) => {
    const body = await registry.metrics()
    return c.body(body, 200, { 'content-type': registry.contentType })
  })
}
