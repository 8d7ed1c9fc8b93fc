import { sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { GatewayConfig } from '../config.js'
import { createStoreProbe } from '../health/store-probe.js'
import type { StoreSlot } from '../stores/open-stores.js'

/** Store probes behind `/ready`: how often, and how long one may take before it counts as failed. */
const PROBE_INTERVAL_MS = 1_000
const PROBE_TIMEOUT_MS = 2_000

export interface StoreProbesOptions {
  config: GatewayConfig
  logger: Logger
  stores: StoreSlot
  /** Whether the gateway has a database to probe: it opens one, or one was injected. */
  hasDatabase: boolean
  /** Whether the delivery store can be probed: Redis, or an injected backend with `ping`. */
  probesDeliveryStore: boolean
}

/**
 * The database and delivery store probed in the background: /ready and /health read the latest result and
 * never wait on a store.
 */
export function createStoreProbes(options: StoreProbesOptions) {
  const { config, logger, stores } = options
  const timeoutMs = Math.min(PROBE_TIMEOUT_MS, Math.round(config.stores.timeout * 1000))
  const database = createStoreProbe({
    check: async () => {
      const open = stores.get('database')
      if (open === undefined) throw new Error('the database is not open')
      await open.db.execute(sql`select 1`)
    },
    timeoutMs,
    intervalMs: PROBE_INTERVAL_MS,
    failureMessage: 'database did not answer',
    logger: logger.child({ component: 'stores', store: 'database' }),
  })
  const delivery = createStoreProbe({
    check: async () => {
      await stores.require('deliveries', 'the delivery store').ping?.()
    },
    timeoutMs,
    intervalMs: PROBE_INTERVAL_MS,
    failureMessage: 'delivery store did not answer',
    logger: logger.child({ component: 'stores', store: 'delivery' }),
  })
  return {
    /** For /health and /ready: undefined when there is nothing to probe. */
    databaseCheck: options.hasDatabase ? database.latest : undefined,
    deliveryStoreCheck: options.probesDeliveryStore ? delivery.latest : undefined,
    /** Probes once, at start-up, before the gateway listens. */
    async probeNow(): Promise<void> {
      if (stores.get('database') !== undefined) await database.probe()
      if (options.probesDeliveryStore) await delivery.probe()
    },
    start(): void {
      if (stores.get('database') !== undefined) database.start()
      if (options.probesDeliveryStore) delivery.start()
    },
    stop(): void {
      database.stop()
      delivery.stop()
    },
  }
}

export type StoreProbes = ReturnType<typeof createStoreProbes>
