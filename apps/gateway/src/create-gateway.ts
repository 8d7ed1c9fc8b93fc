import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { type Logger, pino } from 'pino'
import { cardSigningKey } from './a2a/a2a-card-signing.js'
import { resolveAdminToken } from './admin/admin-token.js'
import type { AgentLayer, AgentLayerStats } from './agents/agent-layer.js'
import { assembleHttpApp } from './assembly/http-assembly.js'
import { closeServer, listen, urlHost } from './assembly/http-server.js'
import { assembleNode, type NodeParts } from './assembly/node-assembly.js'
import { drainGateway } from './assembly/shutdown.js'
import { createStoreProbes } from './assembly/store-probes.js'
import { createAuditCheckpoints } from './audit/audit-checkpoints.js'
import { createConnectionAudit } from './audit/connection-audit.js'
import { createDeferredBus, type DeferredBus } from './bus/deferred-bus.js'
import { createLocalBus } from './bus/memory-bus.js'
import { openRedisBus } from './bus/redis-bus.js'
import type { ClusterBus } from './bus/types.js'
import { BUS_GROUPS } from './cluster/cluster-node.js'
import {
  assertSafeBind,
  auditCheckpointPaths,
  ConfigError,
  type GatewayConfig,
  redisEnabled,
} from './config.js'
import type { GatewayApp } from './http/create-app.js'
import { newId } from './ids.js'
import { createAuditMetrics } from './metrics/audit-metrics.js'
import { createBusMetrics } from './metrics/bus-metrics.js'
import { createStoreMetrics } from './metrics/store-metrics.js'
import { type ApprovalLinks, createApprovalLinks } from './pairing/approval-links.js'
import { resolvePairingSecret } from './pairing/pairing-secret.js'
import { sha256 } from './security/secrets.js'
import { createStoreSlot, type InjectedStores, needsDatabase } from './stores/open-stores.js'
import { createGatewayTracing, type GatewayTracing } from './tracing/gateway-tracing.js'
import type { HubStats } from './transport/hub.js'

export type { AgentDirectoryHooks } from './assembly/node-assembly.js'

import { GATEWAY_VERSION } from './version.js'

export { GATEWAY_VERSION }

export interface CreateGatewayOptions extends InjectedStores, NodeParts {
  /** Parsed configuration (see `parseConfig`). */
  config: GatewayConfig
  logger?: Logger
  /** Admin token in clear; overrides `config.adminToken` and the data folder. */
  adminToken?: string
  /** SHA-256 of the admin token, hex; for callers that never hold the token itself. */
  adminTokenHash?: string
  /**
   * The cluster bus shared with the other nodes; default: Redis when `redis` is configured, else the
   * in-process bus of a single node. The caller keeps ownership of an injected bus.
   */
  bus?: ClusterBus
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
  /** This node's spans: `enabled` / `exporting` from `start()` on, only with `tracing.otlpEndpoint` (docs/operations.md, "Tracing"). */
  readonly tracing: GatewayTracing
  start(): Promise<StartedGateway>
  stop(options?: StopOptions): Promise<void>
  stats(): GatewayStats
}

/** What `start()` reads from the data folder (or the config) before anything opens. */
interface StartSecrets {
  adminTokenDigest: Buffer
  generatedAdminToken: string | undefined
  pairingSecret: Uint8Array
  approvalLinks: ApprovalLinks
  cardKey: Awaited<ReturnType<typeof cardSigningKey>>
}

/**
 * Builds the gateway from injected parts. Nothing happens until `start()`: no socket, no file, no database.
 *
 * Assembly order: the store slot (injected stores now, the opened bundle from `start()`), the bus, the
 * realtime node (stores/open-stores.ts, assembly/node-assembly.ts), the store probes, the HTTP app and the
 * parts its routes own (assembly/http-assembly.ts). `start()` reads the secrets, opens the bus, opens the
 * stores as one bundle, starts the node and listens; `stop()` drains in the reverse order
 * (assembly/shutdown.ts).
 */
export function createGateway(options: CreateGatewayOptions): Gateway {
  const { config } = options
  const logger = options.logger ?? pino({ level: config.logLevel })
  const startedAt = Date.now()
  const givenAdminDigest = initialAdminDigest(options)
  // Store calls are timed for /metrics from the moment the stores open.
  const storeMetrics = createStoreMetrics()
  const stores = createStoreSlot(options, storeMetrics.timed)
  // The Redis bus (opened at start) reports its lag and reconnects here.
  const busMetrics = createBusMetrics()

  let state: GatewayState = 'created'
  let secrets: StartSecrets | undefined
  let server: HttpServer | HttpsServer | undefined
  let stopping: Promise<void> | undefined
  let starting: Promise<StartedGateway> | undefined

  const nodeId = options.bus?.nodeId ?? config.nodeId ?? newId('node')
  // With Redis configured the bus is opened at start(); until then (and after stop) it is `degraded`.
  const redisBus: DeferredBus | undefined =
    options.bus === undefined && redisEnabled(config) ? createDeferredBus(nodeId) : undefined
  const bus: ClusterBus = options.bus ?? redisBus ?? createLocalBus(nodeId)
  // No provider and no exporter at all unless an OTLP endpoint is configured.
  const tracing = createGatewayTracing({ config, nodeId, version: GATEWAY_VERSION })

  // Rows recorded before `start()` opened the audit log have nowhere to go; only tests drive the app then.
  // Counted for /metrics as recorded, whether or not an audit log keeps the rows.
  const auditMetrics = createAuditMetrics()
  const connectionAudit = createConnectionAudit(
    {
      record: (entry) => {
        auditMetrics.observe(entry)
        stores.get('audit')?.record(entry)
      },
      get behind() {
        return stores.get('audit')?.behind
      },
    },
    logger,
  )
  // Signed checkpoints of the audit chain, written outside the database (audit/audit-checkpoints.ts).
  const auditCheckpoints = config.audit.enabled
    ? createAuditCheckpoints({
        audit: () => stores.get('audit'),
        ...auditCheckpointPaths(config),
        everyRows: config.audit.checkpointRows,
        intervalMs: Math.round(config.audit.checkpointInterval * 1000),
        retentionMs: Math.round(config.audit.retention * 1000),
        logger,
      })
    : undefined
  const node = assembleNode({
    config,
    logger,
    parts: options,
    stores,
    bus,
    startedAt,
    audit: connectionAudit,
    approvalLinks: () => secrets?.approvalLinks,
    tracing,
  })
  const { hub, access, upstreams } = node
  const isDraining = () => state === 'draining' || state === 'stopped'
  const probes = createStoreProbes({
    config,
    logger,
    stores,
    // With an injected audit log and no database there is nothing to probe.
    hasDatabase: needsDatabase(config, options) || options.database !== undefined,
    probesDeliveryStore:
      options.deliveryBackend?.ping !== undefined || config.delivery.storeBackend === 'redis',
  })
  const http = assembleHttpApp({
    config,
    logger,
    node,
    stores,
    bus,
    nodeId,
    startedAt,
    audit: connectionAudit,
    auditMetrics,
    storeMetrics,
    busMetrics,
    probes,
    isDraining,
    isListening: () => state === 'running',
    adminTokenDigest: () => givenAdminDigest ?? secrets?.adminTokenDigest,
    approvalLinks: () => secrets?.approvalLinks,
    cardKey: () => secrets?.cardKey,
  })

  /** Opens the stores as one bundle and starts what runs on them. */
  async function openStorage(pairingSecret: Uint8Array): Promise<void> {
    const opened = await stores.open(config, {
      logger,
      pairingSecret,
      onAuditAppend: (head) => auditCheckpoints?.noteAppend(head),
    })
    upstreams.open(opened.upstreams, pairingSecret)
    let resumeWebhooks = false
    try {
      await auditCheckpoints?.start()
      // The previous process may have ended with deliveries in flight: they are due again. Not while other
      // nodes share the store: theirs are in flight for real (a node that dies is cleaned up after by a
      // survivor, see cluster/cluster-node.ts).
      if (!(await otherNodesAlive())) {
        const released = await opened.deliveries.deliveries.releaseAll()
        if (released > 0) logger.info({ released }, 'released deliveries left in flight')
        resumeWebhooks = true
      }
    } catch (error) {
      await closeStorage()
      throw error
    }
    hub.deliveries.start()
    await http.a2aPush.start({ resume: resumeWebhooks })
    http.a2aTaskRetention.start()
    http.a2aOrphans.start()
  }

  /** The delivery engine settles first, then the stores close (those opened here only) and the upstreams. */
  async function closeStorage(): Promise<void> {
    try {
      await hub.streams.settled()
      await hub.deliveries.stop()
    } catch (error) {
      logger.error({ err: error }, 'closing the delivery store failed during shutdown')
    }
    // The last checkpoint covers every row written until now.
    await auditCheckpoints?.stop()
    await stores.close()
    upstreams.close()
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
      observer: busMetrics.observer,
    })
    redisBus.attach(opened)
    logger.info({ nodeId }, 'cluster bus open')
  }

  async function closeBus(): Promise<void> {
    try {
      await redisBus?.detach()
    } catch (error) {
      logger.error({ err: error }, 'closing the cluster bus failed during shutdown')
    }
  }

  /** Undoes a start-up that failed after the bus (and maybe the stores) opened. */
  const undoStart = (closeStores: boolean) => async (error: unknown) => {
    if (closeStores) await closeStorage()
    await redisBus?.detach()
    await tracing.shutdown().catch(() => {})
    throw error
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
      secrets = await readSecrets(config, givenAdminDigest)
      await tracing.open()
      await openBus()
      await openStorage(secrets.pairingSecret).catch(undoStart(false))
      await probes.probeNow()
      // Policies are read before the first connection is accepted: no frame is ever checked without them.
      await access.start().catch(undoStart(true))
      await upstreams.watch.start()
      logger.info({ backend: stores.get('deliveries')?.name }, 'delivery store open')
      const listening = await listen(http.app, config, logger).catch(undoStart(true))
      server = listening.server
      probes.start()
      hub.heartbeat.start()
      hub.cluster.start()
      hub.agents.start()
      http.observability.start()
      http.mcpUpstreams.start()
      http.pollingSessions.start()
      hub.presence?.start()
      state = 'running'
      const host = urlHost(config.host)
      const scheme = config.sslCert === undefined ? 'http' : 'https'
      const started: StartedGateway = {
        port: listening.port,
        url: `${scheme}://${host}:${listening.port}`,
        wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://${host}:${listening.port}/ws`,
      }
      if (secrets.generatedAdminToken !== undefined) started.generatedAdminToken = secrets.generatedAdminToken
      logger.info(
        {
          url: started.url,
          tls: scheme === 'https',
          database: stores.get('database')?.kind ?? 'injected audit log',
        },
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
    await drainGateway({ node, http, probes, logger, wasRunning, ...stopOptions })
    await closeStorage()
    http.pollingSessions.stop()
    await closeBus()
    const current = server
    server = undefined
    if (current !== undefined) await closeServer(current)
    await tracing.shutdown().catch((error: unknown) => {
      logger.warn({ err: error }, 'sending the last spans failed during shutdown')
    })
    state = 'stopped'
    logger.info('gateway stopped')
  }

  return {
    app: http.app,
    config,
    agents: hub.agents,
    tracing,
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
        auditDropped: stores.get('audit')?.dropped ?? 0,
        agents: hub.agents.stats(),
      }
    },
  }
}

/** The admin token's digest (generated on first start when none is set) and the secrets keyed by the pairing secret. */
async function readSecrets(
  config: GatewayConfig,
  givenAdminDigest: Buffer | undefined,
): Promise<StartSecrets> {
  let adminTokenDigest = givenAdminDigest
  let generatedAdminToken: string | undefined
  if (adminTokenDigest === undefined) {
    const resolved = await resolveAdminToken({ adminToken: config.adminToken, dataDir: config.dataDir })
    adminTokenDigest = resolved.digest
    generatedAdminToken = resolved.generatedToken
  }
  const pairingSecret = await resolvePairingSecret({ secret: config.pairing.secret, dataDir: config.dataDir })
  return {
    adminTokenDigest,
    generatedAdminToken,
    pairingSecret,
    approvalLinks: createApprovalLinks(pairingSecret),
    cardKey: await cardSigningKey(pairingSecret),
  }
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
