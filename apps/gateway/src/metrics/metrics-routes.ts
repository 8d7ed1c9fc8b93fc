import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { GatewayApp } from '../http/create-app.js'
import type { HubStats } from '../transport/hub.js'

export interface MetricsDeps {
  stats: () => HubStats
  auditDropped: () => number
  isDraining: () => boolean
}

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
]

/**
 * Builds this gateway's own Prometheus registry. Values are read from the hub when Prometheus scrapes, so
 * the routing path pays nothing for metrics. A registry per gateway (not prom-client's global one) keeps
 * several gateways in one process, as in tests, apart.
 */
export function createMetricsRegistry(deps: MetricsDeps): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
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

/** `GET /metrics` in the Prometheus text format. Counts only: no client ids, channel names or tokens. */
export function registerMetricsRoutes(app: GatewayApp, registry: Registry): void {
  app.get('/metrics', async (c) => {
    const body = await registry.metrics()
    return c.body(body, 200, { 'content-type': registry.contentType })
  })
}
