import type { DeliveryBackend } from '@parley/stores'
import type { Logger } from 'pino'
import { GatewayError } from '../errors.js'

/**
 * A time bound on every call into a store, and one mapping of "the store is down" to the protocol's
 * retryable `unavailable`. A database or Redis that drops packets never answers: without a bound, every
 * request that touches it (a publish, a token check, an admin page) would wait for the whole outage and
 * pile up. The call that timed out keeps running underneath; if it completes later its effect stands, which
 * is why a client retries a publish or a send with the same idempotency key.
 */
export interface StoreBound {
  /** Milliseconds a store call may take before it is answered with `unavailable`. */
  timeoutMs: number
  logger: Logger
}

/** Lifecycle and fire-and-forget methods: never bounded (closing waits for its own work). */
const UNBOUNDED_METHODS = new Set(['close', 'flush', 'record'])

/**
 * The store with each method that returns a promise bounded by `bound.timeoutMs`; a rejection caused by a
 * lost connection or a timeout becomes `GatewayError('unavailable')`. Domain errors pass unchanged.
 */
export function boundStore<T extends object>(store: T, what: string, bound: StoreBound): T {
  const methods = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function' || typeof key !== 'string' || UNBOUNDED_METHODS.has(key)) return value
      let method = methods.get(key)
      if (method === undefined) {
        const original = value as (...args: unknown[]) => unknown
        method = (...args: unknown[]) =>
          boundCall(() => original.apply(target, args), `${what} ${key}`, bound)
        methods.set(key, method)
      }
      return method
    },
  })
}

/** The delivery backend with its history and delivery stores bounded. */
export function boundDeliveryBackend(backend: DeliveryBackend, bound: StoreBound): DeliveryBackend {
  const history = boundStore(backend.history, 'history store', bound)
  const deliveries = boundStore(backend.deliveries, 'delivery store', bound)
  return {
    get name() {
      return backend.name
    },
    history,
    deliveries,
    // Probes carry their own bound (health/store-probe.ts).
    ...(backend.ping === undefined ? {} : { ping: () => backend.ping?.() ?? Promise.resolve() }),
    close: () => backend.close(),
  }
}

/** Runs one store call under the bound; a synchronous result passes through untouched. */
export function boundCall<R>(call: () => R, what: string, bound: StoreBound): R {
  const result = call()
  if (!isPromiseLike(result)) return result
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), bound.timeoutMs)
  })
  return Promise.race([result, timedOut])
    .then(
      (value) => {
        if (value !== TIMED_OUT) return value
        bound.logger.warn({ store: what, timeoutMs: bound.timeoutMs }, 'store call timed out')
        throw new GatewayError('unavailable', 'the store did not answer in time; retry later')
      },
      (error: unknown) => {
        if (!isConnectionFailure(error)) throw error
        bound.logger.warn({ err: error, store: what }, 'store call failed: store unreachable')
        throw new GatewayError('unavailable', 'the store is unavailable; retry later')
      },
    )
    .finally(() => clearTimeout(timer)) as R
}

const TIMED_OUT: unique symbol = Symbol('timed out')

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Codes of the `postgres` driver and of Node sockets that mean the server could not be reached. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** ioredis says "the connection is down" in messages, not codes. */
const REDIS_CONNECTION_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
]

/**
 * Whether an error (or one of its causes, as Drizzle wraps driver errors) says the store could not be
 * reached, rather than that it refused the call. PostgreSQL's class 08 (connection exception) and 57P0x
 * (the server is shutting down or starting) count as unreachable.
 */
export function isConnectionFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-4]$/.test(code)) return true
    }
    if (current.name === 'MaxRetriesPerRequestError') return true
    if (
      REDIS_CONNECTION_MESSAGES.some(
        (message) => current instanceof Error && current.message.includes(message),
      )
    )
      return true
    current = current.cause
  }
  return false
}
