import { join } from 'node:path'
import {
  type AgentKeyStore,
  type AuditChainHead,
  type AuditLog,
  type CaptureStore,
  createDisabledAuditLog,
  createMemoryCaptureStore,
  createMemoryDashboardSessionStore,
  createMemoryStateStore,
  createMemoryTaskStore,
  createMemoryUpstreamStore,
  createPostgresAgentKeyStore,
  createPostgresAuditLog,
  createPostgresCaptureStore,
  createPostgresDashboardSessionStore,
  createPostgresDevicePairingStore,
  createPostgresGrantStore,
  createPostgresPairingStore,
  createPostgresPolicyStore,
  createPostgresSessionBindingStore,
  createPostgresStateStore,
  createPostgresTaskStore,
  createPostgresTokenStore,
  createPostgresUpstreamStore,
  type DashboardSessionStore,
  type DeliveryBackend,
  type DevicePairingStore,
  type GrantStore,
  openDatabase,
  type PairingStore,
  type ParleyDatabase,
  type PolicyStore,
  type SessionBindingStore,
  type StateStore,
  type TaskStore,
  type TokenStore,
  type UpstreamStore,
} from '@parley/stores'
import type { Logger } from 'pino'
import { taskSecretKey } from '../a2a/a2a-task-store.js'
import { type GatewayConfig, redisEnabled } from '../config.js'
import { openDeliveryBackend } from '../delivery/open-delivery-backend.js'
import { GatewayError } from '../errors.js'
import { boundDeliveryBackend, boundStore, type StoreBound } from './bounded-store.js'
import { embeddedTemplateDir } from './embedded-template.js'

/** Stores a caller hands the gateway instead of the ones it would open; the caller keeps ownership of each. */
export interface InjectedStores {
  /** Audit log to record into; without it `start()` opens the database and writes the audit there. */
  audit?: AuditLog
  /** Database to use instead of opening `config.databaseUrl`; the caller keeps ownership and closes it. */
  database?: ParleyDatabase
  /**
   * Delivery backend (channel history and deliveries) to use instead of the one `delivery.storeBackend`
   * names; the caller keeps ownership and closes it.
   */
  deliveryBackend?: DeliveryBackend
  /** API tokens; default: the Postgres store on the gateway's database. The caller keeps ownership. */
  tokenStore?: TokenStore
  /** Where each session's principal is recorded; default: the Postgres store on the gateway's database. */
  sessionBinding?: SessionBindingStore
  /**
   * Dashboard logins; default: the Postgres store on the gateway's database when one is open (in memory when
   * every other store was injected and no database is opened). The caller keeps ownership.
   */
  dashboardSessions?: DashboardSessionStore
  /**
   * Chat-user pairing for connectors; default: the Postgres store on the gateway's database, keyed with
   * the pairing secret (`pairing.secret` or `<dataDir>/pairing-secret`). The caller keeps ownership.
   */
  pairingStore?: PairingStore
  /** Device pairing requests; default: the Postgres store on the gateway's database. */
  devicePairing?: DevicePairingStore
  /** Agent keys allowed to answer the Ed25519 challenge; default: the Postgres store on the gateway's database. */
  agentKeys?: AgentKeyStore
  /** Policy rules and default; default: the Postgres store on the gateway's database. */
  policyStore?: PolicyStore
  /** Grants (accepted introductions); default: the Postgres store on the gateway's database. */
  grantStore?: GrantStore
  /**
   * A2A tasks and their events; default: the Postgres store on the gateway's database with the `postgres` or
   * `redis` store backend, a memory one (this node only) with `memory`.
   */
  taskStore?: TaskStore
  /**
   * Shared state (`state_*` frames); default: in memory with the `memory` delivery store backend, else the
   * Postgres store on the gateway's database. The caller keeps ownership.
   */
  stateStore?: StateStore
  /**
   * Upstreams an operator registered (external A2A agents, MCP servers); default: in memory with the `memory`
   * delivery store backend, else the Postgres store on the gateway's database. The caller keeps ownership.
   */
  upstreamStore?: UpstreamStore
  /**
   * Captured exchange payloads (conversation replay); default: the Postgres store on the gateway's database, in
   * memory when no database is open. The caller keeps ownership.
   */
  captureStore?: CaptureStore
}

/** Every store a running gateway uses, open; each call is bounded by `stores.timeout` (stores/bounded-store.ts). */
export interface GatewayStores {
  /** The database the default stores live on; undefined when every store that needs one was injected. */
  database: ParleyDatabase | undefined
  audit: AuditLog
  deliveries: DeliveryBackend
  tokens: TokenStore
  sessionBinding: SessionBindingStore
  dashboardSessions: DashboardSessionStore
  pairing: PairingStore
  devicePairing: DevicePairingStore
  agentKeys: AgentKeyStore
  policies: PolicyStore
  grants: GrantStore
  state: StateStore
  tasks: TaskStore
  upstreams: UpstreamStore
  captures: CaptureStore
}

export interface OpenedStores {
  stores: GatewayStores
  /** Closes what `openStores` opened, newest first; an injected audit log is flushed, other injected stores are left alone. */
  close(): Promise<void>
}

export interface OpenStoresContext {
  logger: Logger
  /** Keys the pairing store's codes and the task store's secrets. */
  pairingSecret: Uint8Array
  /** Told the audit chain's head after each batch the audit log wrote (the checkpoints count rows with it). */
  onAuditAppend?: (head: AuditChainHead) => void
}

/** Whether a store that lives on the database is missing from the injected ones. */
export function needsDatabase(config: GatewayConfig, injected: InjectedStores): boolean {
  return (
    (injected.audit === undefined && config.audit.enabled) ||
    injected.tokenStore === undefined ||
    injected.sessionBinding === undefined ||
    injected.pairingStore === undefined ||
    injected.devicePairing === undefined ||
    injected.agentKeys === undefined ||
    injected.policyStore === undefined ||
    injected.grantStore === undefined ||
    (injected.deliveryBackend === undefined && config.delivery.storeBackend === 'postgres') ||
    (injected.stateStore === undefined && config.delivery.storeBackend !== 'memory')
  )
}

/**
 * With Redis configured (several nodes) and the `postgres` backend on the embedded database, every node keeps
 * its own channel offsets and deliveries: recovery across nodes cannot work. Told at start; not refused, since
 * a single node on Redis (or tests injecting a shared database) is a fair set-up.
 */
function warnOfUnsharedStore(config: GatewayConfig, logger: OpenStoresContext['logger']): void {
  const embedded = config.databaseUrl === undefined || config.databaseUrl.startsWith('memory://')
  if (redisEnabled(config) && embedded && config.delivery.storeBackend === 'postgres') {
    logger.warn(
      "Redis is configured (several nodes) but deliveries and history are in this node's embedded database: " +
        'point databaseUrl at a shared PostgreSQL server, or use delivery.storeBackend redis',
    )
  }
}

/**
 * Opens the stores the gateway was not given: the database (when a store needs it), then the default store
 * of each kind on it, then the delivery backend. Injected stores are used as they are and never closed. If
 * opening fails part-way, what was opened is closed again before the error is thrown.
 */
export async function openStores(
  config: GatewayConfig,
  injected: InjectedStores,
  context: OpenStoresContext,
): Promise<OpenedStores> {
  const { logger, pairingSecret } = context
  /** How to close what this call opened, in the order it was opened; a failure is logged and the rest still close. */
  const owned: Array<{ what: string; close: () => Promise<void> }> = []
  const close = async () => {
    for (const { what, close: closeOne } of owned.splice(0).reverse()) {
      await closeOne().catch((error: unknown) => logger.error({ err: error }, `closing ${what} failed`))
    }
  }
  const database =
    injected.database ??
    (needsDatabase(config, injected)
      ? await openDatabase({
          url: config.databaseUrl,
          dataDir: join(config.dataDir, 'data'),
          templateDir: embeddedTemplateDir(),
          onEmbeddedError: (error) => logger.error({ err: error }, 'the embedded database stopped'),
          connectTimeout: config.stores.timeout,
          preparedStatements: config.stores.preparedStatements,
        })
      : undefined)
  if (database !== undefined && injected.database === undefined) {
    owned.push({ what: 'the database', close: () => database.close() })
    warnOfUnsharedStore(config, logger)
  }
  try {
    const onDatabase = <T>(what: string, create: (db: ParleyDatabase) => T): T => {
      if (database === undefined) throw new Error(`${what} needs a database and none is open`)
      return create(database)
    }
    const sharedBackend = config.delivery.storeBackend !== 'memory'
    const stateLimits = {
      maxHistoryPerKey: config.state.maxHistoryPerKey,
      maxValueBytes: config.state.maxValueBytes,
    }
    const audit =
      injected.audit ??
      (config.audit.enabled
        ? onDatabase('the audit log', (db) =>
            createPostgresAuditLog(db, {
              onError: (error) => logger.error({ err: error }, 'audit batch dropped after a failed write'),
              ...(context.onAuditAppend === undefined ? {} : { onAppend: context.onAuditAppend }),
            }),
          )
        : createDisabledAuditLog())
    if (!config.audit.enabled && injected.audit === undefined)
      logger.warn('the audit is off (audit.enabled false): no interaction is recorded')
    // An injected audit log stays open, but the rows recorded until now are written before the gateway stops.
    owned.push({
      what: 'the audit log',
      close: () => (injected.audit === undefined ? audit.close() : audit.flush()),
    })
    const tasks =
      injected.taskStore ??
      (sharedBackend && database !== undefined
        ? createPostgresTaskStore(database, { secretKey: taskSecretKey(pairingSecret) })
        : createMemoryTaskStore())
    // The task appends in flight land before the database closes.
    if (injected.taskStore === undefined)
      owned.push({ what: 'the A2A task store', close: () => tasks.close() })
    const stores: GatewayStores = {
      database,
      audit,
      tokens: injected.tokenStore ?? onDatabase('the token store', createPostgresTokenStore),
      sessionBinding:
        injected.sessionBinding ?? onDatabase('the session binding store', createPostgresSessionBindingStore),
      dashboardSessions:
        injected.dashboardSessions ??
        (database === undefined
          ? createMemoryDashboardSessionStore()
          : createPostgresDashboardSessionStore(database)),
      pairing:
        injected.pairingStore ??
        onDatabase('the pairing store', (db) =>
          createPostgresPairingStore(db, {
            secret: pairingSecret,
            codeTtlMs: Math.round(config.pairing.codeTtl * 1000),
            maxPendingPerChannelType: config.pairing.maxPending,
            maxFailedAttempts: config.pairing.maxFailedAttempts,
          }),
        ),
      devicePairing:
        injected.devicePairing ?? onDatabase('the device pairing store', createPostgresDevicePairingStore),
      agentKeys: injected.agentKeys ?? onDatabase('the agent key store', createPostgresAgentKeyStore),
      policies:
        injected.policyStore ??
        onDatabase('the policy store', (db) =>
          createPostgresPolicyStore(db, { defaultEffect: config.policies.default }),
        ),
      grants: injected.grantStore ?? onDatabase('the grant store', createPostgresGrantStore),
      state:
        injected.stateStore ??
        (sharedBackend
          ? onDatabase('the state store', (db) => createPostgresStateStore(db, stateLimits))
          : createMemoryStateStore(stateLimits)),
      tasks,
      upstreams:
        injected.upstreamStore ??
        (sharedBackend && database !== undefined
          ? createPostgresUpstreamStore(database)
          : createMemoryUpstreamStore()),
      captures:
        injected.captureStore ??
        (database === undefined ? createMemoryCaptureStore() : createPostgresCaptureStore(database)),
      deliveries: injected.deliveryBackend ?? openDeliveryBackend(config, () => database, logger),
    }
    if (injected.deliveryBackend === undefined) {
      owned.push({ what: 'the delivery store', close: () => stores.deliveries.close() })
    }
    return { stores: boundStores(stores, config, logger), close }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * Every store call is bounded by `stores.timeout` and answers `unavailable` when its store is unreachable
 * (see stores/bounded-store.ts); closing them is not.
 */
function boundStores(stores: GatewayStores, config: GatewayConfig, logger: Logger): GatewayStores {
  const bound: StoreBound = {
    timeoutMs: Math.round(config.stores.timeout * 1000),
    logger: logger.child({ component: 'stores' }),
  }
  return {
    database: stores.database,
    audit: boundStore(stores.audit, 'audit log', bound),
    deliveries: boundDeliveryBackend(stores.deliveries, bound),
    tokens: boundStore(stores.tokens, 'token store', bound),
    sessionBinding: boundStore(stores.sessionBinding, 'session binding store', bound),
    dashboardSessions: boundStore(stores.dashboardSessions, 'dashboard session store', bound),
    pairing: boundStore(stores.pairing, 'pairing store', bound),
    devicePairing: boundStore(stores.devicePairing, 'device pairing store', bound),
    agentKeys: boundStore(stores.agentKeys, 'agent key store', bound),
    policies: boundStore(stores.policies, 'policy store', bound),
    grants: boundStore(stores.grants, 'grant store', bound),
    state: boundStore(stores.state, 'state store', bound),
    tasks: boundStore(stores.tasks, 'task store', bound),
    upstreams: boundStore(stores.upstreams, 'upstream store', bound),
    captures: boundStore(stores.captures, 'capture store', bound),
  }
}

/**
 * The gateway's one handle on its stores: before `start()` (and after `stop()`) the injected ones serve
 * alone (admin routes of a gateway built on injected stores answer before it starts), in between the
 * opened bundle. A store asked for while it is not open is `unavailable`.
 */
export function createStoreSlot(
  injected: InjectedStores,
  /** Wraps the opened stores (the metrics time their calls); the injected ones stay as given until `open`. */
  wrap: (stores: GatewayStores) => GatewayStores = (stores) => stores,
) {
  let opened: OpenedStores | undefined
  const injectedOnly: Partial<GatewayStores> = {
    database: injected.database,
    audit: injected.audit,
    deliveries: injected.deliveryBackend,
    tokens: injected.tokenStore,
    sessionBinding: injected.sessionBinding,
    dashboardSessions: injected.dashboardSessions,
    pairing: injected.pairingStore,
    devicePairing: injected.devicePairing,
    agentKeys: injected.agentKeys,
    policies: injected.policyStore,
    grants: injected.grantStore,
    state: injected.stateStore,
    tasks: injected.taskStore,
    upstreams: injected.upstreamStore,
    captures: injected.captureStore,
  }
  const current = (): Partial<GatewayStores> => opened?.stores ?? injectedOnly
  return {
    /** The store if it is open (or injected), else undefined. */
    get<K extends keyof GatewayStores>(name: K): GatewayStores[K] | undefined {
      return current()[name]
    },
    /** The store, or `unavailable` while it is not open. */
    require<K extends keyof GatewayStores>(name: K, what: string): NonNullable<GatewayStores[K]> {
      const store = current()[name]
      if (store === undefined || store === null)
        throw new GatewayError('unavailable', `${what} is not open yet`)
      return store as NonNullable<GatewayStores[K]>
    },
    async open(config: GatewayConfig, context: OpenStoresContext): Promise<GatewayStores> {
      const justOpened = await openStores(config, injected, context)
      opened = { ...justOpened, stores: wrap(justOpened.stores) }
      return opened.stores
    },
    /** Closes what `open` opened; the injected stores serve again. */
    async close(): Promise<void> {
      const closing = opened
      opened = undefined
      await closing?.close()
    },
  }
}

export type StoreSlot = ReturnType<typeof createStoreSlot>
