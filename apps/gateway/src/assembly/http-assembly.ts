import type { Logger } from 'pino'
import { a2aCardUrl } from '../a2a/a2a-card.js'
import type { CardSigningKey } from '../a2a/a2a-card-signing.js'
import { createA2aPush } from '../a2a/a2a-push.js'
import { registerA2aRoutes } from '../a2a/a2a-routes.js'
import { createTaskRetention } from '../a2a/a2a-task-retention.js'
import { createA2aTaskStore } from '../a2a/a2a-task-store.js'
import { createExternalAgents } from '../a2a/external/external-agents.js'
import { registerExternalA2aRoutes } from '../a2a/external/external-routes.js'
import { registerA2aTaskRoutes } from '../admin/a2a-task-routes.js'
import { registerAdminAuth } from '../admin/admin-auth.js'
import { registerAgentKeyRoutes } from '../admin/agent-key-routes.js'
import { registerAgentMapRoutes } from '../admin/agent-map-routes.js'
import { registerAuditRoutes } from '../admin/audit-routes.js'
import { registerChannelsRoutes } from '../admin/channels-routes.js'
import { registerConnectionsRoutes } from '../admin/connections-routes.js'
import { registerConversationRoutes } from '../admin/conversation-routes.js'
import { registerDeadLetterRoutes } from '../admin/dead-letter-routes.js'
import { registerDeliveriesRoutes } from '../admin/deliveries-routes.js'
import { registerDeviceRoutes } from '../admin/device-routes.js'
import { listDurableSubscriptions } from '../admin/durable-subscriptions.js'
import { registerExchangeRoutes } from '../admin/exchange-routes.js'
import { registerGrantRoutes } from '../admin/grant-routes.js'
import { registerNodesRoutes } from '../admin/nodes-routes.js'
import { registerPairingRoutes } from '../admin/pairing-routes.js'
import { registerPolicyRoutes } from '../admin/policy-routes.js'
import { registerPresenceRoutes } from '../admin/presence-routes.js'
import { registerSessionRoutes } from '../admin/session-routes.js'
import { registerTokenRoutes } from '../admin/token-routes.js'
import { registerAgentRoutes } from '../agents/agent-routes.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { createAuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { ClusterBus } from '../bus/types.js'
import type { GatewayConfig } from '../config.js'
import { registerHealthRoutes } from '../health/health-routes.js'
import { createClientAddressResolver } from '../http/client-address.js'
import { createHttpApp } from '../http/create-app.js'
import { registerMcpRoutes } from '../mcp/mcp-routes.js'
import { registerMcpServerRoutes } from '../mcp/upstreams/mcp-server-routes.js'
import { createMcpUpstreams } from '../mcp/upstreams/mcp-upstreams.js'
import { upstreamMcpServerRegistry } from '../mcp/upstreams/upstream-mcp-registry.js'
import type { AuditMetrics } from '../metrics/audit-metrics.js'
import type { BusMetrics } from '../metrics/bus-metrics.js'
import { createMetricsRegistry, registerMetricsRoutes } from '../metrics/metrics-routes.js'
import type { StoreMetrics } from '../metrics/store-metrics.js'
import { registerOpenApiRoutes } from '../openapi/openapi-routes.js'
import { registerApprovalLinkRoutes } from '../pairing/approval-link-routes.js'
import type { ApprovalLinks } from '../pairing/approval-links.js'
import { sha256 } from '../security/secrets.js'
import type { StoreSlot } from '../stores/open-stores.js'
import { pollingEntry, registerPollingRoutes } from '../transport/polling-routes.js'
import { createPollingSessions } from '../transport/polling-sessions.js'
import { registerWebSocketRoutes } from '../transport/websocket-routes.js'
import { GATEWAY_VERSION } from '../version.js'
import type { GatewayNode } from './node-assembly.js'
import { assembleObservability } from './observability-assembly.js'
import type { StoreProbes } from './store-probes.js'

/** Who approved with an owner approval link, in its audit row. */
const LINK_PRINCIPAL = 'approval link'

export interface HttpAssemblyOptions {
  config: GatewayConfig
  logger: Logger
  node: GatewayNode
  stores: StoreSlot
  bus: ClusterBus
  nodeId: string
  startedAt: number
  audit: ConnectionAudit
  /** Counts of what the audit records, for `/metrics` (the gateway taps its audit with it). */
  auditMetrics?: AuditMetrics
  /** Store call latencies, for `/metrics`. */
  storeMetrics?: StoreMetrics
  busMetrics?: BusMetrics
  probes: StoreProbes
  isDraining: () => boolean
  isListening: () => boolean
  /** SHA-256 of the admin token; undefined until `start()` resolved it (unless it was given). */
  adminTokenDigest: () => Buffer | undefined
  /** Owner approval links and the A2A card signing key: both derive from the pairing secret read at start. */
  approvalLinks: () => ApprovalLinks | undefined
  cardKey: () => CardSigningKey | undefined
}

/**
 * The HTTP side of the gateway, in the order its routes are matched: health, metrics and the API reference
 * (`/api/openapi.json`, `/api/docs`: every route is described there, see openapi/), the WebSocket and
 * polling entries, admin authentication and the admin routes, the agent, A2A and MCP faces. Also builds the
 * parts those routes own (polling sessions, A2A push and task retention, external agents, upstream MCP
 * servers), which the gateway starts and stops.
 */
export function assembleHttpApp(options: HttpAssemblyOptions) {
  const { config, logger, node, stores, bus, nodeId, probes, isDraining } = options
  const { hub, access, upstreams, chatPairing, authProvider } = node
  const connectionAudit = options.audit
  const requireAudit = () => stores.require('audit', 'the audit log')
  const requireTasks = () => stores.require('tasks', 'the task store')
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
    startedAt: options.startedAt,
    connections: () => hub.connections.size,
    isDraining,
    isListening: options.isListening,
    // With an injected audit log and no database there is nothing to probe.
    databaseCheck: probes.databaseCheck,
    deliveryStoreCheck: probes.deliveryStoreCheck,
    busState: () => bus.state(),
    connectedAgents: () => hub.agents.activeCount(),
  })
  const metricsRegistry = createMetricsRegistry({
    stats: hub.stats,
    auditDropped: () => stores.get('audit')?.dropped ?? 0,
    isDraining,
    deliveryStats: () => (stores.get('deliveries') === undefined ? undefined : hub.deliveries.stats()),
    busState: () => bus.state(),
    agents: { activity: hub.agents.activity, stats: hub.agents.stats },
    ...(options.auditMetrics === undefined ? {} : { audit: options.auditMetrics }),
    ...(options.storeMetrics === undefined ? {} : { stores: options.storeMetrics }),
    ...(options.busMetrics === undefined ? {} : { bus: options.busMetrics }),
    transports: () => {
      let polling = 0
      for (const connection of hub.connections.values()) if (connection.transport === 'polling') polling += 1
      return { websocket: hub.connections.size - polling, polling, pollingSessions: pollingSessions.size }
    },
  })
  registerMetricsRoutes(app, metricsRegistry)
  registerOpenApiRoutes(app, { version: GATEWAY_VERSION, publicUrl: config.pairing.publicUrl })
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
  const requireDashboardSessions = () => stores.require('dashboardSessions', 'the dashboard session store')
  registerAdminAuth(app, {
    adminTokenDigest: options.adminTokenDigest,
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
  const durable = listDurableSubscriptions(() => stores.get('deliveries')?.deliveries)
  registerConnectionsRoutes(app, {
    open: () => hub.listConnections(),
    pairing: () => hub.listPairingConnections(),
    total: () => hub.connections.size,
    durable,
  })
  registerChannelsRoutes(app, { list: () => hub.channels.list(), durable })
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
    tasks: requireTasks,
    retentionMs: config.a2a.taskRetention * 1000,
    logger: logger.child({ component: 'a2a' }),
  })
  const a2aTasks = createA2aTaskStore(requireTasks)
  const a2aPush = createA2aPush({
    tasks: a2aTasks,
    deliveries: () => stores.require('deliveries', 'the delivery store').deliveries,
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
    cardKey: options.cardKey,
    logger: logger.child({ component: 'a2a' }),
  })
  registerA2aTaskRoutes(app, { tasks: requireTasks })
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
  const observability = assembleObservability({ app, config, logger, node, stores, bus })
  registerDeliveriesRoutes(app, { stats: () => hub.deliveries.stats() })
  registerDeadLetterRoutes(app, {
    deliveries: () => stores.require('deliveries', 'the delivery store').deliveries,
    requeue: async (id) => {
      const requeued = await hub.deliveries.requeue(id)
      if (requeued?.kind === 'webhook') a2aPush.wake(requeued.recipient)
      return requeued
    },
  })
  registerTokenRoutes(app, {
    tokens: () => stores.require('tokens', 'the token store'),
    revoked: (id) => hub.revokeToken(id),
    // A dashboard session opened with the token ends with it.
    revokeSessions: async (id) =>
      (await stores.get('dashboardSessions')?.revokeByCredential(id, Date.now())) ?? 0,
  })
  registerPairingRoutes(app, { pairing: chatPairing })
  registerDeviceRoutes(app, { devices: hub.devices })
  registerAgentKeyRoutes(app, {
    agentKeys: () => stores.require('agentKeys', 'the agent key store'),
    revoked: (id) => hub.revokeAgentKey(id),
  })
  registerPolicyRoutes(app, {
    policies: () => stores.require('policies', 'the policy store'),
    changed: () => access.policiesChanged(),
  })
  registerGrantRoutes(app, {
    grants: () => stores.require('grants', 'the grant store'),
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
  registerExchangeRoutes(app, {
    audit: requireAudit,
    captures: () => stores.require('captures', 'the capture store'),
    capture: node.capture,
  })
  registerAgentMapRoutes(app, { audit: requireAudit, agents: () => hub.agents.listAll() })
  registerApprovalLinkRoutes(app, {
    pairing: chatPairing,
    links: options.approvalLinks,
    recordAction: (detail, outcome) => connectionAudit.admin(LINK_PRINCIPAL, detail, outcome),
    // Its own count, so guessing links does not spend an address's budget for connecting, nor the reverse.
    forgeries: createAuthFailureLimiter({
      limit: config.authFailureLimit,
      windowMs: config.authFailureWindow * 1000,
    }),
  })
  return {
    app,
    pollingSessions,
    a2aPush,
    a2aTaskRetention,
    a2aOrphans,
    externalAgents,
    mcpRoutes,
    mcpUpstreams,
    observability,
  }
}

export type GatewayHttp = ReturnType<typeof assembleHttpApp>
