import { Counter, Histogram, type Registry } from 'prom-client'
import type { BusObserver } from '../bus/types.js'

/** Bus lag buckets, seconds: a sub-millisecond hop on one host up to a Redis that holds messages for seconds. */
const LAG_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * The shared (Redis) bus: `parley_bus_lag_seconds{topic}` (publish on one node to receipt on this one, by topic
 * kind) and `parley_bus_reconnects_total`. Created before the registry (the bus opens at start), registered
 * with `register`; the bus reports through `observer`.
 */
export function createBusMetrics() {
  const lag = new Histogram({
    name: 'parley_bus_lag_seconds',
    help: 'Time from a message being published on another node to its receipt here, by topic kind (channel, node, state, signal, all).',
    labelNames: ['topic'],
    buckets: LAG_BUCKETS,
    registers: [],
  })
  const reconnects = new Counter({
    name: 'parley_bus_reconnects_total',
    help: 'Times the cluster bus connected again after an outage.',
    registers: [],
  })
  const observer: BusObserver = {
    received: (topic, lagMs) => lag.observe({ topic }, lagMs / 1000),
    reconnected: () => reconnects.inc(),
  }
  return {
    observer,
    register(registry: Registry): void {
      registry.registerMetric(lag)
      registry.registerMetric(reconnects)
    },
  }
}

export type BusMetrics = ReturnType<typeof createBusMetrics>
