import { Histogram, type Registry } from 'prom-client'
import type { GatewayStores } from '../stores/open-stores.js'

/** Store latency buckets, seconds: a sub-millisecond in-memory call up to the 5 s store timeout and past it. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The stores timed: every one but the database handle and the audit log (whose `record` only buffers). */
const TIMED: ReadonlyArray<Exclude<keyof GatewayStores, 'database' | 'audit'>> = [
  'deliveries',
  'tokens',
  'sessionBinding',
  'dashboardSessions',
  'pairing',
  'devicePairing',
  'agentKeys',
  'policies',
  'grants',
  'state',
  'tasks',
  'upstreams',
]

/** The delivery backend's own stores, timed as `history` and `deliveries`. */
const DELIVERY_BACKEND_STORES = ['history', 'deliveries']

type Observe = (store: string, operation: string, seconds: number, outcome: 'ok' | 'error') => void

/**
 * `store` with every method that returns a promise timed: `observe` hears the method's name, how long its
 * promise took and whether it rejected. Methods run on the store itself (`this` is the store, so private
 * fields work); anything else passes through. `nested` names properties that are stores themselves (the
 * delivery backend's `history` and `deliveries`): they are timed under their own names.
 */
export function timedStore<T extends object>(
  store: T,
  name: string,
  observe: Observe,
  nested: readonly string[] = [],
): T {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (
        typeof property === 'string' &&
        nested.includes(property) &&
        typeof value === 'object' &&
        value !== null
      ) {
        let inner = wrapped.get(property) as { original: unknown; store: unknown } | undefined
        if (inner?.original !== value) {
          inner = { original: value, store: timedStore(value, property, observe) }
          wrapped.set(property, inner)
        }
        return inner.store
      }
      if (typeof value !== 'function' || typeof property !== 'string') return value
      let timed = wrapped.get(property)
      if (timed === undefined || (timed as { original?: unknown }).original !== value) {
        const method = value as (...args: unknown[]) => unknown
        const call = (...args: unknown[]) => {
          const started = performance.now()
          const result = method.apply(target, args)
          if (!(result instanceof Promise)) return result
          const seconds = () => (performance.now() - started) / 1000
          return result.then(
            (settled) => {
              observe(name, property, seconds(), 'ok')
              return settled
            },
            (error: unknown) => {
              observe(name, property, seconds(), 'error')
              throw error
            },
          )
        }
        timed = Object.assign(call, { original: value })
        wrapped.set(property, timed)
      }
      return timed
    },
  })
}

/**
 * `parley_store_operation_duration_seconds{store,operation,outcome}`: how long each store call took, for the
 * stores the gateway opened. Created before the registry (the stores open first), registered with `register`.
 */
export function createStoreMetrics() {
  const histogram = new Histogram({
    name: 'parley_store_operation_duration_seconds',
    help: 'Store calls by store (deliveries, tokens, policies, …), operation (the method) and outcome (ok, error).',
    labelNames: ['store', 'operation', 'outcome'],
    buckets: STORE_BUCKETS,
    registers: [],
  })
  const observe: Observe = (store, operation, seconds, outcome) =>
    histogram.observe({ store, operation, outcome }, seconds)
  return {
    /** The stores with the timed ones wrapped (the same objects underneath). */
    timed(stores: GatewayStores): GatewayStores {
      const result = { ...stores }
      for (const name of TIMED) {
        const store = result[name] as object | undefined
        if (store === undefined || store === null) continue
        const nested = name === 'deliveries' ? DELIVERY_BACKEND_STORES : []
        Object.assign(result, { [name]: timedStore(store, name, observe, nested) })
      }
      return result
    },
    register(registry: Registry): void {
      registry.registerMetric(histogram)
    },
  }
}

export type StoreMetrics = ReturnType<typeof createStoreMetrics>
