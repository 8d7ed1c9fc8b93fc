import type { ServerFrame } from '@parley/protocol'
import type { Logger } from 'pino'
import { createAgentAccess } from '../agents/access.js'
import { createIntroductions } from '../agents/introductions.js'
import type { AgentAccess, AgentDirectory } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { createAuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { AuthProvider } from '../auth/auth-provider.js'
import { createDefaultAuthProvider } from '../auth/default-auth-provider.js'
import { createJwtVerifier } from '../auth/jwt-verifier.js'
import type { ClusterBus } from '../bus/types.js'
import { createExchangeCapture } from '../capture/exchange-capture.js'
import type { GatewayConfig } from '../config.js'
import type { ApprovalLinks } from '../pairing/approval-links.js'
import { createChatPairing } from '../pairing/chat-pairing.js'
import { sha256 } from '../security/secrets.js'
import type { StoreSlot } from '../stores/open-stores.js'
import type { GatewayTracing } from '../tracing/gateway-tracing.js'
import type { ProcessResources } from '../transport/connection-capacity.js'
import { createHub } from '../transport/hub.js'
import { createUpstreams } from '../upstreams/upstreams.js'
import { GATEWAY_VERSION } from '../version.js'

/** What an agent directory gets from the gateway it runs in. */
export interface AgentDirectoryHooks {
  /** Sends a frame to the client id's connection on this node; false when it has none here. */
  sendLocally: (clientId: string, frame: ServerFrame) => boolean
}

/** The parts of `createGateway`'s options the realtime node is built from. */
export interface NodeParts {
  /**
   * Checks every connection's credentials (and admin requests that do not carry the admin token). Default:
   * the shared `authToken`, API tokens of `tokenStore`, JWTs when `jwt` is configured, and anonymous access
   * while `allowAnonymous`.
   */
  auth?: AuthProvider
  /**
   * The cluster's agent directory, built with the hub's way to reach local clients. Introductions need it;
   * without it `introduce` answers `unavailable`.
   */
  agentDirectory?: (hub: AgentDirectoryHooks) => AgentDirectory
  /** Stands in for the policies and grants (tests); default: the policy and grant stores. */
  agentAccess?: () => AgentAccess
  /** Sweep intervals of the delivery engine, in milliseconds (tests shorten them). */
  deliveryTimers?: { expirySweepMs?: number; historyTrimMs?: number }
  /** The process's file-descriptor limit and heap, which bound connections (tests inject small ones). */
  resources?: ProcessResources
}

export interface NodeAssemblyOptions {
  config: GatewayConfig
  logger: Logger
  parts: NodeParts
  stores: StoreSlot
  bus: ClusterBus
  startedAt: number
  audit: ConnectionAudit
  /** Owner approval links; undefined until `start()` has read the pairing secret. */
  approvalLinks: () => ApprovalLinks | undefined
  tracing: GatewayTracing
}

/**
 * The realtime node, wired in order: credentials and chat pairing, policies and grants, the upstreams
 * registry, then the hub (connections, channels, presence, delivery, cluster, agents) and the agent
 * introductions that need the hub's directory. Nothing runs until the gateway starts the parts.
 */
export function assembleNode(options: NodeAssemblyOptions) {
  const { config, logger, parts, stores, bus, audit } = options
  const authProvider =
    parts.auth ??
    createDefaultAuthProvider({
      authTokenDigest: config.authToken === undefined ? undefined : sha256(config.authToken),
      allowAnonymous: config.allowAnonymous,
      tokenStore: () => stores.get('tokens'),
      jwt: createJwtVerifier(config.jwt),
    })

  const chatPairing = createChatPairing({
    config: config.pairing,
    store: () => stores.require('pairing', 'the pairing store'),
    links: options.approvalLinks,
    resolved: (frame) => hub.notifyConnectors(frame),
  })

  const access = createAgentAccess({
    policies: () => stores.require('policies', 'the policy store'),
    grants: () => stores.require('grants', 'the grant store'),
    bus,
    liveNodes: async () => (await hub.cluster.nodes()).map((node) => node.id),
    defaultEffect: config.policies.default,
    reloadIntervalMs: Math.round(config.policies.reloadInterval * 1000),
    logger: logger.child({ component: 'policies' }),
  })
  const upstreams = createUpstreams({
    secretKey: config.upstreams.secretKey,
    reloadIntervalMs: Math.round(config.upstreams.reloadInterval * 1000),
    bus,
    logger: logger.child({ component: 'upstreams' }),
  })

  const capture = createExchangeCapture({
    config: config.capture,
    node: bus.nodeId,
    store: () => stores.get('captures'),
    logger: logger.child({ component: 'capture' }),
  })

  const hub = createHub({
    config,
    logger,
    audit,
    authProvider: () => authProvider,
    authLimiter: createAuthFailureLimiter({
      limit: config.authFailureLimit,
      windowMs: config.authFailureWindow * 1000,
    }),
    sessionBinding: () => stores.get('sessionBinding'),
    bus,
    serverVersion: GATEWAY_VERSION,
    startedAt: options.startedAt,
    backend: () => stores.require('deliveries', 'the delivery store'),
    agentKeys: () => stores.require('agentKeys', 'the agent key store'),
    devicePairing: () => stores.require('devicePairing', 'the device pairing store'),
    tokens: () => stores.require('tokens', 'the token store'),
    chatPairing: () => chatPairing,
    access: parts.agentAccess?.() ?? access,
    introductions: () => introductions,
    stateStore: () => stores.require('state', 'the state store'),
    ...(parts.deliveryTimers === undefined ? {} : { deliveryTimers: parts.deliveryTimers }),
    ...(parts.resources === undefined ? {} : { resources: parts.resources }),
    capture,
    tracing: options.tracing,
  })

  const agentDirectory: AgentDirectory =
    parts.agentDirectory?.({ sendLocally: hub.sendLocally }) ?? hub.agents.directory
  const introductions = createIntroductions({
    directory: agentDirectory,
    access,
    grants: access.grants,
    record: audit.record,
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

  return { hub, access, introductions, upstreams, chatPairing, authProvider, capture }
}

export type GatewayNode = ReturnType<typeof assembleNode>
