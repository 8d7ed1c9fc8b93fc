import { readFile } from 'node:fs/promises'
import type { Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createAdaptorServer } from '@hono/node-server'
import type { ServerFrame } from '@parley/protocol'
import {
  type AgentKeyStore,
  type AuditLog,
  createMemoryDashboardSessionStore,
  createMemoryStateStore,
  createMemoryTaskStore,
  createMemoryUpstreamStore,
  createPostgresAgentKeyStore,
  createPostgresAuditLog,
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
import { sql } from 'drizzle-orm'
import { type Logger, pino } from 'pino'
import { WebSocketServer } from 'ws'
import packageJson from '../package.json' with { type: 'json' }
import { a2aCardUrl } from './a2a/a2a-card.js'
import { type CardSigningKey, cardSigningKey } from './a2a/a2a-card-signing.js'
import { createA2aPush } from './a2a/a2a-push.js'
import { registerA2aRoutes } from './a2a/a2a-routes.js'
import { createTaskRetention } from './a2a/a2a-task-retention.js'
import { createA2aTaskStore, taskSecretKey } from './a2a/a2a-task-store.js'
import { createExternalAgents } from './a2a/external/external-agents.js'
import { registerExternalA2aRoutes } from './a2a/external/external-routes.js'
import { registerA2aTaskRoutes } from './admin/a2a-task-routes.js'
import { registerAdminAuth } from './admin/admin-auth.js'
import { resolveAdminToken } from './admin/admin-token.js'
import { registerAgentKeyRoutes } from './admin/agent-key-routes.js'
import { registerAuditRoutes } from './admin/audit-routes.js'
import { registerChannelsRoutes } from './admin/channels-routes.js'
import { registerConnectionsRoutes } from './admin/connections-routes.js'
import { registerConversationRoutes } from './admin/conversation-routes.js'
import { registerDeadLetterRoutes } from './admin/dead-letter-routes.js'
import { registerDeliveriesRoutes } from './admin/deliveries-routes.js'
import { registerDeviceRoutes } from './admin/device-routes.js'
import { registerGrantRoutes } from './admin/grant-routes.js'
import { registerNodesRoutes } from './admin/nodes-routes.js'
import { registerPairingRoutes } from './admin/pairing-routes.js'
import { registerPolicyRoutes } from './admin/policy-routes.js'
import { registerPresenceRoutes } from './admin/presence-routes.js'
import { registerSessionRoutes } from './admin/session-routes.js'
import { registerTokenRoutes } from './admin/token-routes.js'
import { createAgentAccess } from './agents/access.js'
import type { AgentLayer, AgentLayerStats } from './agents/agent-layer.js'
import { registerAgentRoutes } from './agents/agent-routes.js'
import { createIntroductions } from './agents/introductions.js'
import type { AgentAccess, AgentDirectory } from './agents/types.js'
import { createConnectionAudit } from './audit/connection-audit.js'
import { createAuthFailureLimiter } from './auth/auth-failure-limiter.js'
import type { AuthProvider } from './auth/auth-provider.js'
import { createDefaultAuthProvider } from './auth/default-auth-provider.js'
import { createJwtVerifier } from './auth/jwt-verifier.js'
import { createDeferredBus, type DeferredBus } from './bus/deferred-bus.js'
import { createLocalBus } from './bus/memory-bus.js'
import { openRedisBus } from './bus/redis-bus.js'
import type { ClusterBus } from './bus/types.js'
import { BUS_GROUPS } from './cluster/cluster-node.js'
import { assertSafeBind, ConfigError, type GatewayConfig, redisEnabled } from './config.js'
import { openDeliveryBackend } from './delivery/open-delivery-backend.js'
import { GatewayError } from './errors.js'
import { registerHealthRoutes } from './health/health-routes.js'
import { createStoreProbe } from './health/store-probe.js'
import { createClientAddressResolver } from './http/client-address.js'
import { createHttpApp, type GatewayApp } from './http/create-app.js'
import { newId } from './ids.js'
import { registerMcpRoutes } from './mcp/mcp-routes.js'
import { registerMcpServerRoutes } from './mcp/upstreams/mcp-server-routes.js'
import { createMcpUpstreams } from './mcp/upstreams/mcp-upstreams.js'
import { upstreamMcpServerRegistry } from './mcp/upstreams/upstream-mcp-registry.js'
import { createMetricsRegistry, registerMetricsRoutes } from './metrics/metrics-routes.js'
import { registerApprovalLinkRoutes } from './pairing/approval-link-routes.js'
import { type ApprovalLinks, createApprovalLinks } from './pairing/approval-links.js'
import { createChatPairing } from './pairing/chat-pairing.js'
import { resolvePairingSecret } from './pairing/pairing-secret.js'
import { sha256 } from './security/secrets.js'
import { boundDeliveryBackend, boundStore, type StoreBound } from './stores/bounded-store.js'
import { createHub, type HubStats } from './transport/hub.js'
import { pollingEntry, registerPollingRoutes } from './transport/polling-routes.js'
import { createPollingSessions } from './transport/polling-sessions.js'
import { registerWebSocketRoutes } from './transport/websocket-routes.js'
import { createUpstreams } from './upstreams/upstreams.js'

export const GATEWAY_VERSION: string = packageJson.version

export interface CreateGatewayOptions {
  /** Parsed configuration (see `parseConfig`). */
  config: GatewayConfig
  /** Audit log to record into; without it `start()` opens the database and writes the audit there. */
  audit?: AuditLog
  /** Database to use instead of opening `config.databaseUrl`; the caller keeps ownership and closes it. */
  database?: ParleyDatabase
  logger?: Logger
  /** Admin token in clear; overrides `config.adminToken` and the data folder. */
  adminToken?: string
  /** SHA-256 of the admin token, hex; for callers that never hold the token itself. */
  adminTokenHash?: string
  /**
   * Delivery backend (channel history and deliveries) to use instead of the one `delivery.storeBackend`
   * names; the caller keeps ownership and closes it.
   */
  deliveryBackend?: DeliveryBackend
  /** Sweep intervals of the delivery engine, in milliseconds (tests shorten them). */
  deliveryTimers?: { expirySweepMs?: number; historyTrimMs?: number }
  /**
   * Checks every connection's credentials (and admin requests that do not carry the admin token). Default:
   * the shared `authToken`, API tokens of `tokenStore`, JWTs when `jwt` is configured, and anonymous access
   * while `allowAnonymous`.
   */
  auth?: AuthProvider
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
  /**
   * The cluster bus shared with the other nodes; default: Redis when `redis` is configured, else the
   * in-process bus of a single node. The caller keeps ownership of an injected bus.
   */
  bus?: ClusterBus
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
   * The cluster's agent directory, built with the hub's way to reach local clients. Introductions need it;
   * without it `introduce` answers `unavailable`.
   */
  agentDirectory?: (hub: AgentDirectoryHooks) => AgentDirectory
  /** Stands in for the policies and grants (tests); default: the policy and grant stores. */
  agentAccess?: () => AgentAccess
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
}

/** What an agent directory gets from the gateway it runs in. */
export interface AgentDirectoryHooks {
  /** Sends a frame to the client id's connection on this node; false when it has none here. */
  sendLocally: (clientId: string, frame: ServerFrame) => boolean
}

export interface StartedGateway {
  port: number
  /** `http(s)://host:port` */
  url: string
  /** `ws(s)://host:port/ws` */
  wsUrl: string
  /** The admin token, only on the start that generated it: show it once, it is not stored. */
  generatedAdminToken?: string
}

export interface StopOptions {
  /** How long clients get to close after `shutdown` before they are cut off. */
  drainTimeoutMs?: number
  reason?: string
}

export type GatewayState = 'created' | 'starting' | 'running' | 'draining' | 'stopped'

export interface GatewayStats extends HubStats {
  state: GatewayState
  uptimeS: number
  auditDropped: number
  /** Pending requests, open streams and the chunks they hold, active agent instances. */
  agents: AgentLayerStats
}

export interface Gateway {
  readonly app: GatewayApp
  readonly config: GatewayConfig
  readonly state: GatewayState
  /** This node's agent layer: in-process agents (`hostAgent`) register through it. */
  readonly agents: AgentLayer
  start(): Promise<StartedGateway>
  stop(options?: StopOptions): Promise<void>
  stats(): GatewayStats
}

const DEFAULT_DRAIN_TIMEOUT_MS = 5_000
const RECONNECT_AFTER_SHUTDOWN_MS = 1_000
/** Store probes behind `/ready`: how often, and how long one may take before it counts as failed. */
const PROBE_INTERVAL_MS = 1_000
const PROBE_TIMEOUT_MS = 2_000

/**
 * Builds the gateway from injected parts. Nothing happens until `start()`: no socket, no file, no database.
 */
export function createGateway(options: CreateGatewayOptions): Gateway {
  const { config } = options
  const logger = options.logger ?? pino({ level: config.logLevel })
  const startedAt = Date.now()

  let state: GatewayState = 'created'
  let audit: AuditLog | undefined = options.audit
  let database: ParleyDatabase | undefined = options.database
  let ownsAudit = false
  let ownsDatabase = false
  let deliveryBackend: DeliveryBackend | undefined = options.deliveryBackend
  let ownsDeliveryBackend = false
  // The postgres delivery backend needs a database even when the audit log is injected.
  const needsDatabase =
    options.audit === undefined ||
    options.tokenStore === undefined ||
    options.sessionBinding === undefined ||
    options.pairingStore === undefined ||
    options.devicePairing === undefined ||
    options.agentKeys === undefined ||
    options.policyStore === undefined ||
    options.grantStore === undefined ||
    (options.deliveryBackend === undefined && config.delivery.storeBackend === 'postgres') ||
    (options.stateStore === undefined && config.delivery.storeBackend !== 'memory')
  let tokenStore: TokenStore | undefined = options.tokenStore
  let sessionBinding: SessionBindingStore | undefined = options.sessionBinding
  let dashboardSessions: DashboardSessionStore | undefined = options.dashboardSessions
  let pairingStore: PairingStore | undefined = options.pairingStore
  let devicePairing: DevicePairingStore | undefined = options.devicePairing
  let agentKeys: AgentKeyStore | undefined = options.agentKeys
  let policyStore: PolicyStore | undefined = options.policyStore
  let grantStore: GrantStore | undefined = options.grantStore
  let stateStore: StateStore | undefined = options.stateStore
  let taskStore: TaskStore | undefined = options.taskStore
  let a2aCardKey: CardSigningKey | undefined
  let approvalLinks: ApprovalLinks | undefined
  let server: HttpServer | HttpsServer | undefined
  let adminTokenDigest = initialAdminDigest(options)
  let stopping: Promise<void> | undefined
  let starting: Promise<StartedGateway> | undefined

  const nodeId = options.bus?.nodeId ?? config.nodeId ?? newId('node')
  // With Redis configured the bus is opened at start(); until then (and after stop) it is `degraded`.
  const redisBus: DeferredBus | undefined =
    options.bus === undefined && redisEnabled(config) ? createDeferredBus(nodeId) : undefined
  const bus: ClusterBus = options.bus ?? redisBus ?? createLocalBus(nodeId)

  // Rows recorded before `start()` opened the audit log have nowhere to go; only tests drive the app then.
  const connectionAudit = createConnectionAudit({ record: (entry) => audit?.record(entry) }, logger)

  const authProvider =
    options.auth ??
    createDefaultAuthProvider({
      authTokenDigest: config.authToken === undefined ? undefined : sha256(config.authToken),
      allowAnonymous: config.allowAnonymous,
      tokenStore: () => tokenStore,
      jwt: createJwtVerifier(config.jwt),
    })

  const chatPairing = createChatPairing({
    config: config.pairing,
    store: () => required(pairingStore, 'the pairing store'),
    links: () => approvalLinks,
    resolved: (frame) => hub.notifyConnectors(frame),
  })

  const access = createAgentAccess({
    policies: () => required(policyStore, 'the policy store'),
    grants: () => required(grantStore, 'the grant store'),
    bus,
    liveNodes: async () => (await hub.cluster.nodes()).map((node) => node.id),
    defaultEffect: config.policies.default,
    reloadIntervalMs: Math.round(config.policies.reloadInterval * 1000),
    logger: logger.child({ component: 'policies' }),
  })
  const introductions = () => introductionsHandler
  const upstreams = createUpstreams({
    secretKey: config.upstreams.secretKey,
    reloadIntervalMs: Math.round(config.upstreams.reloadInterval * 1000),
    bus,
    logger: logger.child({ component: 'upstreams' }),
  })

  const hub = createHub({
    config,
    logger,
    audit: connectionAudit,
    authProvider: () => authProvider,
    authLimiter: createAuthFailureLimiter({
      limit: config.authFailureLimit,
      windowMs: config.authFailureWindow * 1000,
    }),
    sessionBinding: () => sessionBinding,
    bus,
    serverVersion: GATEWAY_VERSION,
    startedAt,
    backend: requireDeliveryBackend,
    agentKeys: () => required(agentKeys, 'the agent key store'),
    devicePairing: () => required(devicePairing, 'the device pairing store'),
    tokens: requireTokenStore,
    chatPairing: () => chatPairing,
    access: options.agentAccess?.() ?? access,
    introductions,
    stateStore: () => required(stateStore, 'the state store'),
    ...(options.deliveryTimers === undefined ? {} : { deliveryTimers: options.deliveryTimers }),
  })

  const agentDirectory: AgentDirectory =
    options.agentDirectory?.({ sendLocally: hub.sendLocally }) ?? hub.agents.directory
  const introductionsHandler = createIntroductions({
    directory: agentDirectory,
    access,
    grants: access.grants,
    record: connectionAudit.record,
    timeoutMs: Math.round(config.agents.introductionTimeout * 1000),
    logger: logger.child({ component: 'introductions' }),
  })
  // Every node tells its own connected parties, so each party hears of a revocation once.
  access.grants.onRevoked((grant) => {
    const timestamp = Date.now()
    hub.sendLocally(grant.from.clientId, {
      type: 'grant_revoked',
      grantId: grant.id,
      peer: grant.to,
      timestamp,
    })
    hub.sendLocally(grant.to.clientId, {
      type: 'grant_revoked',
      grantId: grant.id,
      peer: grant.from,
      timestamp,
    })
  })

  function requireDeliveryBackend(): DeliveryBackend {
    if (deliveryBackend === undefined) {
      throw new GatewayError('unavailable', 'the delivery store is not open yet')
    }
    return deliveryBackend
  }

  function requireTokenStore(): TokenStore {
    if (tokenStore === undefined) throw new GatewayError('unavailable', 'the token store is not open yet')
    return tokenStore
  }

  function requireAudit(): AuditLog {
    if (audit === undefined) throw new GatewayError('unavailable', 'the audit log is not open yet')
    return audit
  }

  const isDraining = () => state === 'draining' || state === 'stopped'

  const probeTimeoutMs = Math.min(PROBE_TIMEOUT_MS, Math.round(config.stores.timeout * 1000))
  // Probed in the background: /ready and /health read the latest result and never wait on a store.
  const databaseProbe = createStoreProbe({
    check: async () => {
      if (database === undefined) throw new Error('the database is not open')
      await database.db.execute(sql`select 1`)
    },
    timeoutMs: probeTimeoutMs,
    intervalMs: PROBE_INTERVAL_MS,
    failureMessage: 'database did not answer',
    logger: logger.child({ component: 'stores', store: 'database' }),
  })
  const deliveryStoreProbe = createStoreProbe({
    check: async () => {
      await requireDeliveryBackend().ping?.()
    },
    timeoutMs: probeTimeoutMs,
    intervalMs: PROBE_INTERVAL_MS,
    failureMessage: 'delivery store did not answer',
    logger: logger.child({ component: 'stores', store: 'delivery' }),
  })
  const probesDeliveryStore =
    options.deliveryBackend?.ping !== undefined || config.delivery.storeBackend === 'redis'

  const app = createHttpApp(
    logger,
    {
      // Polling carries frames: its bodies may hold up to the transport's hard limit of a frame.
      maxBytes: (path) => (path.startsWith('/poll/') ? 4 * config.maxPayload : config.http.maxBodySize),
      drainTimeoutMs: Math.round(config.http.requestTimeout * 1000),
    },
    [pollingEntry(config, logger)],
  )
  registerHealthRoutes(app, {
    version: GATEWAY_VERSION,
    startedAt,
    connections: () => hub.connections.size,
    isDraining,
    isListening: () => state === 'running',
    // With an injected audit log and no database there is nothing to probe.
    databaseCheck: needsDatabase || options.database !== undefined ? databaseProbe.latest : undefined,
    deliveryStoreCheck: probesDeliveryStore ? deliveryStoreProbe.latest : undefined,
    busState: () => bus.state(),
    connectedAgents: () => hub.agents.activeCount(),
  })
  const metricsRegistry = createMetricsRegistry({
    stats: hub.stats,
    auditDropped: () => audit?.dropped ?? 0,
    isDraining,
    deliveryStats: () => (deliveryBackend === undefined ? undefined : hub.deliveries.stats()),
    busState: () => bus.state(),
  })
  registerMetricsRoutes(app, metricsRegistry)
  registerWebSocketRoutes(app, { config, hub, logger, isDraining })
  const pollingSessions = createPollingSessions({
    config,
    hub,
    bus,
    logger: logger.child({ component: 'polling' }),
  })
  if (config.polling.enabled) registerPollingRoutes(app, { config, sessions: pollingSessions, isDraining })
  const clientAddress = createClientAddressResolver({
    trustedProxies: config.trustedProxies,
    dashboardSecretDigest: config.dashboardSecret === undefined ? undefined : sha256(config.dashboardSecret),
    onSecretMismatch: () =>
      logger.warn(
        'a request carried a dashboard secret this gateway does not share: set the same PARLEY_DASHBOARD_SECRET ' +
          'on the gateway and the dashboard, or failed logins of all its browsers count as one address',
      ),
  })
  const requireDashboardSessions = () => required(dashboardSessions, 'the dashboard session store')
  registerAdminAuth(app, {
    adminTokenDigest: () => adminTokenDigest,
    provider: () => authProvider,
    sessions: requireDashboardSessions,
    authenticate: hub.authenticate,
    clientAddress,
    recordAction: (principal, detail, outcome) => connectionAudit.admin(principal, detail, outcome),
  })
  registerSessionRoutes(app, {
    sessions: requireDashboardSessions,
    clientAddress,
    ttlMs: Math.round(config.dashboardSessionTtl * 1000),
  })
  registerConnectionsRoutes(app, { list: () => hub.listConnections() })
  registerChannelsRoutes(app, { list: () => hub.channels.list() })
  registerNodesRoutes(app, { list: () => hub.cluster.nodes() })
  registerPresenceRoutes(app, { list: hub.presence?.adminList })
  registerAgentRoutes(app, {
    authenticate: hub.authenticate,
    clientAddress,
    listFor: hub.agents.listFor,
    listAll: hub.agents.listAll,
    cardUrl: (requestUrl, agentId) =>
      a2aCardUrl((config.pairing.publicUrl ?? new URL(requestUrl).origin).replace(/\/+$/, ''), agentId),
  })
  const a2aTaskRetention = createTaskRetention({
    tasks: () => required(taskStore, 'the task store'),
    retentionMs: config.a2a.taskRetention * 1000,
    logger: logger.child({ component: 'a2a' }),
  })
  const a2aTasks = createA2aTaskStore(() => required(taskStore, 'the task store'))
  const a2aPush = createA2aPush({
    tasks: a2aTasks,
    deliveries: () => requireDeliveryBackend().deliveries,
    delivery: config.delivery,
    policy: {
      allowInsecureUrls: config.a2a.pushAllowInsecureUrls,
      allowPrivateAddresses: config.a2a.pushAllowPrivateAddresses,
    },
    timeoutMs: config.a2a.pushTimeout * 1000,
    audit: connectionAudit,
    logger: logger.child({ component: 'a2a-push' }),
  })
  const a2aOrphans = registerA2aRoutes(app, {
    config,
    bus,
    gatewayVersion: GATEWAY_VERSION,
    authenticate: hub.authenticate,
    clientAddress,
    agents: hub.agents,
    tasks: a2aTasks,
    push: a2aPush,
    audit: connectionAudit,
    cardKey: () => a2aCardKey,
    logger: logger.child({ component: 'a2a' }),
  })
  registerA2aTaskRoutes(app, { tasks: () => required(taskStore, 'the task store') })
  const externalAgents = createExternalAgents({
    upstreams,
    agents: hub.agents,
    nodeId,
    refreshIntervalMs: Math.round(config.a2a.externalRefreshInterval * 1000),
    fetchTimeoutMs: Math.round(config.a2a.externalFetchTimeout * 1000),
    logger: logger.child({ component: 'a2a-external' }),
  })
  externalAgents.start()
  registerExternalA2aRoutes(app, { external: externalAgents })
  const mcpRoutes = config.mcp.enabled
    ? registerMcpRoutes(app, {
        config,
        gatewayVersion: GATEWAY_VERSION,
        authenticate: hub.authenticate,
        clientAddress,
        agents: hub.agents,
        audit: connectionAudit,
        metrics: metricsRegistry,
        logger: logger.child({ component: 'mcp' }),
      })
    : undefined
  // Upstream MCP servers: their tools hosted as agents on every node (docs/mcp.md).
  const mcpServerRegistry = upstreamMcpServerRegistry(upstreams)
  const mcpUpstreams = createMcpUpstreams({
    registry: () => mcpServerRegistry,
    agents: hub.agents,
    config: config.mcpUpstreams,
    clientVersion: GATEWAY_VERSION,
    logger: logger.child({ component: 'mcp-upstreams' }),
  })
  registerMcpServerRoutes(app, {
    registry: () => mcpServerRegistry,
    upstreams: mcpUpstreams,
    firstListingWaitMs: Math.round(config.mcpUpstreams.timeout * 1000),
  })
  registerAuditRoutes(app, { audit: requireAudit })
  registerDeliveriesRoutes(app, { stats: () => hub.deliveries.stats() })
  registerDeadLetterRoutes(app, {
    deliveries: () => requireDeliveryBackend().deliveries,
    requeue: async (id) => {
      const requeued = await hub.deliveries.requeue(id)
      if (requeued?.kind === 'webhook') a2aPush.wake(requeued.recipient)
      return requeued
    },
  })
  registerTokenRoutes(app, {
    tokens: requireTokenStore,
    revoked: (id) => hub.revokeToken(id),
    // A dashboard session opened with the token ends with it.
    revokeSessions: async (id) => (await dashboardSessions?.revokeByCredential(id, Date.now())) ?? 0,
  })
  registerPairingRoutes(app, { pairing: chatPairing })
  registerDeviceRoutes(app, { devices: hub.devices })
  registerAgentKeyRoutes(app, {
    agentKeys: () => required(agentKeys, 'the agent key store'),
    revoked: (id) => hub.revokeAgentKey(id),
  })
  registerPolicyRoutes(app, {
    policies: () => required(policyStore, 'the policy store'),
    changed: () => access.policiesChanged(),
  })
  registerGrantRoutes(app, {
    grants: () => required(grantStore, 'the grant store'),
    revoke: async (id, by) => {
      const grant = await access.revokeGrant(id, by)
      // Between the two parties (so it shows in their conversation), naming the operator who revoked it.
      if (grant !== undefined) {
        connectionAudit.record({
          kind: 'grant',
          outcome: 'ok',
          principal: grant.from.principal,
          clientId: grant.from.clientId,
          target: grant.to.agentId ?? grant.to.clientId,
          detail: `revoked by ${by}`,
          correlationId: grant.id,
        })
      }
      return grant
    },
  })
  registerConversationRoutes(app, { audit: requireAudit })
  registerApprovalLinkRoutes(app, {
    pairing: chatPairing,
    links: () => approvalLinks,
    recordAction: (detail, outcome) => connectionAudit.admin(LINK_PRINCIPAL, detail, outcome),
    // Its own count, so guessing links does not spend an address's budget for connecting, nor the reverse.
    forgeries: createAuthFailureLimiter({
      limit: config.authFailureLimit,
      windowMs: config.authFailureWindow * 1000,
    }),
  })

  async function openStorage(pairingSecret: Uint8Array): Promise<void> {
    let resumeWebhooks = false
    if (database === undefined && needsDatabase) {
      database = await openDatabase({
        url: config.databaseUrl,
        dataDir: join(config.dataDir, 'data'),
        connectTimeout: config.stores.timeout,
      })
      ownsDatabase = true
    }
    if (audit === undefined && database !== undefined) {
      audit = createPostgresAuditLog(database, {
        onError: (error) => logger.error({ err: error }, 'audit batch dropped after a failed write'),
      })
      ownsAudit = true
    }
    if (database !== undefined) {
      tokenStore ??= createPostgresTokenStore(database)
      sessionBinding ??= createPostgresSessionBindingStore(database)
      dashboardSessions ??= createPostgresDashboardSessionStore(database)
      pairingStore ??= createPostgresPairingStore(database, {
        secret: pairingSecret,
        codeTtlMs: Math.round(config.pairing.codeTtl * 1000),
        maxPendingPerChannelType: config.pairing.maxPending,
        maxFailedAttempts: config.pairing.maxFailedAttempts,
      })
      devicePairing ??= createPostgresDevicePairingStore(database)
      agentKeys ??= createPostgresAgentKeyStore(database)
      policyStore ??= createPostgresPolicyStore(database, { defaultEffect: config.policies.default })
      grantStore ??= createPostgresGrantStore(database)
    }
    dashboardSessions ??= createMemoryDashboardSessionStore()
    const stateLimits = {
      maxHistoryPerKey: config.state.maxHistoryPerKey,
      maxValueBytes: config.state.maxValueBytes,
    }
    if (stateStore === undefined && config.delivery.storeBackend === 'memory') {
      stateStore = createMemoryStateStore(stateLimits)
    } else if (stateStore === undefined && database !== undefined) {
      stateStore = createPostgresStateStore(database, stateLimits)
    }
    if (taskStore === undefined && config.delivery.storeBackend !== 'memory' && database !== undefined) {
      taskStore = createPostgresTaskStore(database, { secretKey: taskSecretKey(pairingSecret) })
    }
    taskStore ??= createMemoryTaskStore()
    const upstreamStore =
      options.upstreamStore ??
      (config.delivery.storeBackend !== 'memory' && database !== undefined
        ? createPostgresUpstreamStore(database)
        : createMemoryUpstreamStore())
    upstreams.open(
      boundStore(upstreamStore, 'upstream store', {
        timeoutMs: Math.round(config.stores.timeout * 1000),
        logger: logger.child({ component: 'stores' }),
      }),
      pairingSecret,
    )
    try {
      if (deliveryBackend === undefined) {
        deliveryBackend = openDeliveryBackend(config, () => database, logger)
        ownsDeliveryBackend = true
      }
      boundStores()
      // The previous process may have ended with deliveries in flight: they are due again. Not while other
      // nodes share the store: theirs are in flight for real (a node that dies is cleaned up after by a
      // survivor, see cluster/cluster-node.ts).
      if (!(await otherNodesAlive())) {
        const released = await deliveryBackend.deliveries.releaseAll()
        if (released > 0) logger.info({ released }, 'released deliveries left in flight')
        resumeWebhooks = true
      }
    } catch (error) {
      await closeStorage()
      throw error
    }
    hub.deliveries.start()
    await a2aPush.start({ resume: resumeWebhooks })
    a2aTaskRetention.start()
    a2aOrphans.start()
  }

  /**
   * Every store call from here on is bounded by `stores.timeout` and answers `unavailable` when its store is
   * unreachable (see stores/bounded-store.ts); closing them is not.
   */
  function boundStores(): void {
    const bound: StoreBound = {
      timeoutMs: Math.round(config.stores.timeout * 1000),
      logger: logger.child({ component: 'stores' }),
    }
    const wrap = <T extends object>(store: T | undefined, what: string) =>
      store === undefined ? undefined : boundStore(store, what, bound)
    audit = wrap(audit, 'audit log')
    tokenStore = wrap(tokenStore, 'token store')
    sessionBinding = wrap(sessionBinding, 'session binding store')
    pairingStore = wrap(pairingStore, 'pairing store')
    devicePairing = wrap(devicePairing, 'device pairing store')
    agentKeys = wrap(agentKeys, 'agent key store')
    policyStore = wrap(policyStore, 'policy store')
    grantStore = wrap(grantStore, 'grant store')
    stateStore = wrap(stateStore, 'state store')
    dashboardSessions = wrap(dashboardSessions, 'dashboard session store')
    taskStore = wrap(taskStore, 'task store')
    if (deliveryBackend !== undefined) deliveryBackend = boundDeliveryBackend(deliveryBackend, bound)
  }

  async function otherNodesAlive(): Promise<boolean> {
    if (bus.state() === 'local') return false
    try {
      const nodes = await bus.entries(BUS_GROUPS.nodes)
      // This node's own entry is there: its previous life died with deliveries in flight, release them.
      if (nodes.has(bus.nodeId)) return false
      return [...nodes.keys()].some((id) => id !== bus.nodeId)
    } catch {
      // Unknown: leaving deliveries in flight is safe (a survivor or the next lone start releases them).
      return true
    }
  }

  /** Opens Redis (when configured and no bus was injected); the gateway refuses to start without it. */
  async function openBus(): Promise<void> {
    if (redisBus === undefined) return
    const opened = await openRedisBus({
      config: config.redis,
      nodeId,
      logger: logger.child({ component: 'bus' }),
      commandTimeoutMs: Math.round(config.stores.timeout * 1000),
    })
    redisBus.attach(opened)
    logger.info({ nodeId }, 'cluster bus open')
  }

  /** Leaves the cluster before the stores close: no more remote fan-out, wakes or registry refreshes. */
  async function leaveCluster(): Promise<void> {
    try {
      await hub.agents.stop()
      await hub.cluster.stop()
      hub.closeRelay()
    } catch (error) {
      logger.error({ err: error }, 'leaving the cluster failed during shutdown')
    }
  }

  async function closeBus(): Promise<void> {
    try {
      await redisBus?.detach()
    } catch (error) {
      logger.error({ err: error }, 'closing the cluster bus failed during shutdown')
    }
  }

  async function closeDeliveries(): Promise<void> {
    try {
      await hub.streams.settled()
      await hub.deliveries.stop()
      if (ownsDeliveryBackend) await deliveryBackend?.close()
    } catch (error) {
      logger.error({ err: error }, 'closing the delivery store failed during shutdown')
    }
    if (ownsDeliveryBackend) {
      deliveryBackend = undefined
      ownsDeliveryBackend = false
    }
  }

  async function closeStorage(): Promise<void> {
    await closeDeliveries()
    // The task appends in flight land before the database closes (an injected store is its owner's).
    if (taskStore !== undefined && options.taskStore === undefined) {
      await taskStore.close().catch((error: unknown) => {
        logger.error({ err: error }, 'closing the A2A task store failed during shutdown')
      })
    }
    try {
      if (ownsAudit) await audit?.close()
      else await audit?.flush()
    } catch (error) {
      logger.error({ err: error }, 'audit flush failed during shutdown')
    }
    if (ownsDatabase) {
      await database?.close()
      database = undefined
      // The default stores lived on that database.
      tokenStore = options.tokenStore
      sessionBinding = options.sessionBinding
      pairingStore = options.pairingStore
      devicePairing = options.devicePairing
      agentKeys = options.agentKeys
      policyStore = options.policyStore
      grantStore = options.grantStore
    }
    stateStore = options.stateStore
    taskStore = options.taskStore
    upstreams.close()
  }

  async function listen(): Promise<{ server: HttpServer | HttpsServer; port: number }> {
    const tls = await readTls(config)
    const wss = new WebSocketServer({
      noServer: true,
      // Frames between maxPayload and this get a typed error; beyond it ws closes with 1009.
      maxPayload: 4 * config.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    })
    const headersTimeout = Math.round(config.http.headersTimeout * 1000)
    const serverOptions = {
      // Slow clients (slowloris) are answered 408 and closed; the check runs often enough to honour the
      // timeout within a second, or within a quarter of it when it is shorter.
      headersTimeout,
      requestTimeout: Math.round(config.http.requestTimeout * 1000),
      keepAliveTimeout: Math.round(config.http.keepAliveTimeout * 1000),
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.round(headersTimeout / 4))),
    }
    const created = createAdaptorServer({
      fetch: app.fetch,
      hostname: config.host,
      websocket: { server: wss },
      // limitBody drains refused bodies itself: the adapter's own cleanup would cut the socket after 0.5 s.
      autoCleanupIncoming: false,
      serverOptions: tls === undefined ? serverOptions : { ...serverOptions, ...tls },
      ...(tls === undefined ? {} : { createServer: createHttpsServer }),
    }) as HttpServer | HttpsServer
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject)
      created.listen(config.port, config.host, () => {
        created.off('error', reject)
        resolve()
      })
    })
    created.on('error', (error) => logger.error({ err: error }, 'server error'))
    return { server: created, port: (created.address() as AddressInfo).port }
  }

  function start(): Promise<StartedGateway> {
    if (state !== 'created') return Promise.reject(new Error(`start() called on a gateway that is ${state}`))
    state = 'starting'
    starting = startUp()
    return starting
  }

  async function startUp(): Promise<StartedGateway> {
    logger.info('gateway starting')
    try {
      assertSafeBind(config)
      let generatedAdminToken: string | undefined
      if (adminTokenDigest === undefined) {
        const resolved = await resolveAdminToken({ adminToken: config.adminToken, dataDir: config.dataDir })
        adminTokenDigest = resolved.digest
        generatedAdminToken = resolved.generatedToken
      }
      const pairingSecret = await resolvePairingSecret({
        secret: config.pairing.secret,
        dataDir: config.dataDir,
      })
      approvalLinks = createApprovalLinks(pairingSecret)
      a2aCardKey = await cardSigningKey(pairingSecret)
      await openBus()
      await openStorage(pairingSecret).catch(async (error: unknown) => {
        await redisBus?.detach()
        throw error
      })
      if (database !== undefined) await databaseProbe.probe()
      if (probesDeliveryStore) await deliveryStoreProbe.probe()
      // Policies are read before the first connection is accepted: no frame is ever checked without them.
      await access.start().catch(async (error: unknown) => {
        await closeStorage()
        await redisBus?.detach()
        throw error
      })
      await upstreams.watch.start()
      logger.info({ backend: deliveryBackend?.name }, 'delivery store open')
      const listening = await listen().catch(async (error: unknown) => {
        await closeStorage()
        await redisBus?.detach()
        throw error
      })
      server = listening.server
      if (database !== undefined) databaseProbe.start()
      if (probesDeliveryStore) deliveryStoreProbe.start()
      hub.heartbeat.start()
      hub.cluster.start()
      hub.agents.start()
      mcpUpstreams.start()
      pollingSessions.start()
      hub.presence?.start()
      state = 'running'
      const host = urlHost(config.host)
      const scheme = config.sslCert === undefined ? 'http' : 'https'
      const started: StartedGateway = {
        port: listening.port,
        url: `${scheme}://${host}:${listening.port}`,
        wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://${host}:${listening.port}/ws`,
      }
      if (generatedAdminToken !== undefined) started.generatedAdminToken = generatedAdminToken
      logger.info(
        { url: started.url, tls: scheme === 'https', database: database?.kind ?? 'injected audit log' },
        'gateway listening',
      )
      return started
    } catch (error) {
      state = 'created'
      throw error
    }
  }

  async function drain(stopOptions: StopOptions): Promise<void> {
    const wasRunning = state === 'running'
    state = 'draining'
    mcpRoutes?.stop()
    hub.heartbeat.stop()
    hub.presence?.stop()
    hub.devices.stop()
    databaseProbe.stop()
    deliveryStoreProbe.stop()
    if (wasRunning) {
      const reason = stopOptions.reason ?? 'gateway is shutting down'
      logger.info({ connections: hub.connections.size }, 'draining')
      hub.shutdown(reason, RECONNECT_AFTER_SHUTDOWN_MS)
      const drained = await hub.waitForNoConnections(stopOptions.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS)
      if (!drained) {
        logger.warn({ connections: hub.connections.size }, 'drain timed out; cutting remaining connections')
        hub.terminateAll()
        await hub.waitForNoConnections(1_000)
      }
    }
    hub.sessions.stop()
    introductionsHandler.stop()
    access.stop()
    a2aTaskRetention.stop()
    externalAgents.stop()
    await mcpUpstreams.stop()
    await a2aPush.stop()
    a2aOrphans.stop()
    upstreams.watch.stop()
    await leaveCluster()
    await closeStorage()
    pollingSessions.stop()
    await closeBus()
    await closeServer()
    state = 'stopped'
    logger.info('gateway stopped')
  }

  async function closeServer(): Promise<void> {
    const current = server
    if (current === undefined) return
    server = undefined
    await new Promise<void>((resolve) => {
      current.close(() => resolve())
      // Idle keep-alive HTTP sockets would otherwise hold the port open.
      current.closeAllConnections()
    })
  }

  return {
    app,
    config,
    agents: hub.agents,
    get state() {
      return state
    },
    start,
    stop(stopOptions: StopOptions = {}) {
      if (state === 'created') {
        state = 'stopped'
        return Promise.resolve()
      }
      // A stop during start-up (SIGTERM while the database opens) waits for start() to settle, then drains
      // what it opened; draining at once would close storage under start() and leave it listening after.
      if (stopping !== undefined) return stopping
      if (state === 'starting' && starting !== undefined) {
        stopping = starting.then(
          () => drain(stopOptions),
          () => {
            state = 'stopped'
          },
        )
      } else {
        stopping = drain(stopOptions)
      }
      return stopping
    },
    stats() {
      return {
        ...hub.stats(),
        state,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        auditDropped: audit?.dropped ?? 0,
        agents: hub.agents.stats(),
      }
    },
  }
}

/** Who approved with an owner approval link, in its audit row. */
const LINK_PRINCIPAL = 'approval link'

function required<T>(store: T | undefined, what: string): T {
  if (store === undefined) throw new GatewayError('unavailable', `${what} is not open yet`)
  return store
}

function initialAdminDigest(options: CreateGatewayOptions): Buffer | undefined {
  if (options.adminToken !== undefined) return sha256(options.adminToken)
  if (options.adminTokenHash !== undefined) {
    if (!/^[0-9a-f]{64}$/i.test(options.adminTokenHash)) {
      throw new ConfigError('adminTokenHash must be a SHA-256 digest in hex (64 characters)')
    }
    return Buffer.from(options.adminTokenHash, 'hex')
  }
  if (options.config.adminToken !== undefined) return sha256(options.config.adminToken)
  return undefined
}

async function readTls(config: GatewayConfig): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (config.sslCert === undefined || config.sslKey === undefined) return undefined
  const read = async (path: string, option: string) => {
    try {
      return await readFile(path)
    } catch (error) {
      throw new ConfigError(
        `${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      )
    }
  }
  return { cert: await read(config.sslCert, 'sslCert'), key: await read(config.sslKey, 'sslKey') }
}

/** A host usable in a URL: wildcard binds are reached through loopback, IPv6 literals get brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
