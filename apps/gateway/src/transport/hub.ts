import { CLOSE_CODES } from '@parley/protocol'
import type {
  AgentKeyStore,
  DeliveryBackend,
  DevicePairingStore,
  SessionBindingStore,
  StateStore,
  TokenStore,
} from '@parley/stores'
import type { Logger } from 'pino'
import { type AuthorizeParty, createAuthorize } from '../access/authorize.js'
import { registerAgentFrames } from '../agents/agent-frames.js'
import { createAgentLayer } from '../agents/agent-layer.js'
import { allowAllAccess } from '../agents/allow-all-access.js'
import type { Introductions } from '../agents/introductions.js'
import { createSignaling } from '../agents/signaling.js'
import type { AccessParty, AgentAccess } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { AuthProvider } from '../auth/auth-provider.js'
import { createAuthenticator } from '../auth/authenticator.js'
import type { ClusterBus } from '../bus/types.js'
import type { ExchangeCapture } from '../capture/exchange-capture.js'
import { registerChannelFrames } from '../channels/channel-frames.js'
import { type ChannelStreams, createChannelStreams } from '../channels/channel-streams.js'
import { createChannelRelay } from '../cluster/channel-relay.js'
import { createClusterNode } from '../cluster/cluster-node.js'
import type { GatewayConfig } from '../config.js'
import { createDeliveryEngine } from '../delivery/delivery-engine.js'
import { registerDeliveryFrames } from '../delivery/delivery-frames.js'
import { createHeartbeat } from '../heartbeat/heartbeat.js'
import type { HubStats } from '../metrics/hub-stats.js'
import type { ChatPairing } from '../pairing/chat-pairing.js'
import { registerPairingFrames } from '../pairing/pairing-frames.js'
import type { Connection } from '../peers/connection.js'
import { createFrameRegistry } from '../peers/frame-registry.js'
import {
  type ChannelRegistryObserver,
  ObservedChannelRegistry,
} from '../presence/observed-channel-registry.js'
import { registerPresenceFrames } from '../presence/presence-frames.js'
import { createPresenceTracker } from '../presence/presence-tracker.js'
import { createSessionResume } from '../sessions/session-resume.js'
import { registerStateFrames } from '../state/state-frames.js'
import { createStateService } from '../state/state-service.js'
import type { GatewayTracing } from '../tracing/gateway-tracing.js'
import type { ProcessResources } from './connection-capacity.js'
import { createConnectionTable } from './connection-table.js'
import { registerCoreFrames } from './core-frames.js'
import { createFrameDispatch } from './frame-dispatch.js'
import { createHandshake } from './handshake.js'

export type { HubStats } from '../metrics/hub-stats.js'
export type { OpenSocket } from './connection-table.js'

export interface HubOptions {
  config: GatewayConfig
  logger: Logger
  audit: ConnectionAudit
  /** Checks the credentials of `hello` (and of admin requests, through `authenticate`). */
  authProvider: () => AuthProvider
  authLimiter: AuthFailureLimiter
  /** Where each welcomed session's principal is recorded; undefined until the gateway has opened it. */
  sessionBinding: () => SessionBindingStore | undefined
  /** How this node reaches the other nodes (the in-process bus when alone). */
  bus: ClusterBus
  serverVersion: string
  /** When the gateway was created (the node registry shows it). */
  startedAt?: number
  /** The open delivery backend; throws `unavailable` until the gateway has started. */
  backend: () => DeliveryBackend
  /** Sweep intervals of the delivery engine (tests shorten them). */
  deliveryTimers?: { expirySweepMs?: number; historyTrimMs?: number }
  /** Registered agent keys (Ed25519 challenge); throws `unavailable` until opened. */
  agentKeys: () => AgentKeyStore
  /** Device pairing requests; throws `unavailable` until opened. */
  devicePairing: () => DevicePairingStore
  /** API tokens, for the tokens issued to approved devices; throws `unavailable` until opened. */
  tokens: () => TokenStore
  /** Chat-user pairing, answering the connectors' `pairing_check`. */
  chatPairing: () => ChatPairing
  /** Policies (and grants): checked after the scopes for subscribe, publish and send, and for agent frames. */
  access?: AgentAccess
  /** Answers `introduce` and `introduction_answer`; without it they get `unavailable`. */
  introductions?: () => Introductions | undefined
  /** The shared state store; throws `unavailable` until opened. */
  stateStore: () => StateStore
  /** The process's file-descriptor limit and heap, which bound connections (tests inject small ones). */
  resources?: ProcessResources
  /** Payload capture of agent requests and streams (conversation replay); off when absent. */
  capture?: ExchangeCapture
  /** The gateway's spans (off unless an OTLP endpoint is configured). */
  tracing?: GatewayTracing
}

/**
 * The realtime node: wires the connection table, the handshake, the frame dispatch and the subsystems in
 * order. Each subsystem registers the frames it owns and hears about closing connections through a close
 * hook; nothing here handles a frame or a close itself.
 */
export function createHub(options: HubOptions) {
  const { config, logger, audit, serverVersion, backend } = options
  const counters = {
    messagesPublished: 0,
    messagesDelivered: 0,
    broadcasts: 0,
    framesIn: 0,
    invalidFrames: 0,
    slowConsumers: 0,
    reaped: 0,
    authFailures: 0,
    authRateLimited: 0,
  }
  const table = createConnectionTable({
    config,
    logger,
    slowConsumer: () => {
      counters.slowConsumers += 1
    },
    clientArrived: (clientId) => cluster.clientConnected(clientId),
    clientLeft: (clientId) => cluster.clientDisconnected(clientId),
    ...(options.resources === undefined ? {} : { resources: options.resources }),
  })
  const { connections, connectionFor } = table

  // With other nodes on the bus, channel fan-out crosses nodes (see cluster/channel-relay.ts).
  const relay =
    options.bus.state() === 'local'
      ? undefined
      : createChannelRelay({
          bus: options.bus,
          logger: logger.child({ component: 'cluster' }),
          deliver: (publication) => streams.deliverRemote(publication),
          catchUp: (channel) => streams.catchUp(channel),
          forgetPosition: (channel) => channels.forgetPosition(channel),
        })
  const channels = new ObservedChannelRegistry<Connection>(() => channelObserver, {
    onFirstSubscriber: (channel) => relay?.subscribed(channel, true),
    onLastSubscriber: (channel) => relay?.subscribed(channel, false),
  })
  const heartbeatIntervalMs = Math.max(1, Math.round(config.heartbeatInterval * 1000))
  const authenticate = createAuthenticator({
    provider: options.authProvider,
    limiter: options.authLimiter,
    audit,
    logger: logger.child({ component: 'auth' }),
    counters,
  })

  const deliveries = createDeliveryEngine({
    config: config.delivery,
    backend,
    connectionFor,
    wakeElsewhere: (clientId) => cluster.wake(clientId),
    sendElsewhere: (clientId, frame) => cluster.sendTo(clientId, frame),
    logger: logger.child({ component: 'delivery' }),
    audit,
    ...options.deliveryTimers,
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  })
  const agents = createAgentLayer({
    config,
    bus: options.bus,
    logger: logger.child({ component: 'agents' }),
    audit,
    ...(options.access === undefined ? {} : { access: () => options.access as AgentAccess }),
    ...(options.capture === undefined ? {} : { capture: options.capture }),
    deliveries,
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  })
  const streams: ChannelStreams = createChannelStreams({
    config,
    channels,
    backend,
    logger: logger.child({ component: 'channels' }),
    audit,
    counters,
    onDeliveries: deliveries.enqueued,
    onDuplicate: () => {
      deliveries.counters.duplicatesSuppressed += 1
    },
    durable: { requireEnabled: deliveries.requireEnabled, wake: deliveries.pump },
    ...(relay === undefined ? {} : { cluster: relay }),
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  })
  const cluster = createClusterNode({
    bus: options.bus,
    logger: logger.child({ component: 'cluster' }),
    version: serverVersion,
    startedAt: options.startedAt ?? Date.now(),
    connections: () => connections.size,
    listenedChannels: () => relay?.listened() ?? 0,
    localClients: table.localClients,
    isLocal: (clientId) => connectionFor(clientId) !== undefined,
    sendLocally: (clientId, frame) => connectionFor(clientId)?.send(frame),
    pump: (clientId) => deliveries.pump(clientId),
    broadcastLocally: (frame) => {
      const encoded = Buffer.from(frame)
      counters.messagesDelivered += table.sendToAll(encoded)
      sessions.bufferForAll(encoded)
    },
    releaseInFlight: () => backend().deliveries.releaseAll(),
  })

  const access = () => options.access ?? allowAllAccess
  const state = createStateService({
    config: config.state,
    store: options.stateStore,
    bus: options.bus,
    access,
    agentOf: (connectionId) => agents.directory.byConnection(connectionId),
    audit,
    logger: logger.child({ component: 'state' }),
  })
  const signaling = createSignaling({
    bus: options.bus,
    logger: logger.child({ component: 'signaling' }),
    audit,
    access,
    connectionFor,
    agentIdOf: (connectionId) => agents.directory.byConnection(connectionId)?.agentId,
  })
  const sessions = createSessionResume({
    config,
    channels,
    bindings: options.sessionBinding,
    logger: logger.child({ component: 'sessions' }),
  })
  const presence = config.presence.enabled
    ? createPresenceTracker({
        config: config.presence,
        bus: options.bus,
        channels,
        logger: logger.child({ component: 'presence' }),
        fannedOut: sessions.bufferForChannel,
      })
    : undefined
  const channelObserver: ChannelRegistryObserver<Connection> = {
    subscribed: (channel, connection) => presence?.subscribed(connection, channel),
    unsubscribingAll: (connection) => sessions.capture(connection),
  }

  const heartbeat = createHeartbeat<Connection>({
    intervalMs: heartbeatIntervalMs,
    handshakeTimeoutMs: config.handshakeTimeout * 1000,
    targets: () => connections.values(),
    ping: (connection, now) => connection.sendFrame({ type: 'ping', ts: now }),
    handshakeExpired: (connection) => connection.close('handshake_timeout', 'no hello in time'),
    reap: (connection) => {
      counters.reaped += 1
      connection.logger.info('reaping silent connection')
      connection.close('heartbeat_timeout', 'no frames received in time')
      // Gone now, without waiting for a dead peer's closing handshake: its close hooks run as after any close.
      table.closed(connection, CLOSE_CODES.heartbeat_timeout.code)
    },
  })

  const handshake = createHandshake({
    config,
    logger,
    audit,
    serverVersion,
    nodeId: options.bus.nodeId,
    heartbeatIntervalMs,
    authenticate,
    authLimiter: options.authLimiter,
    counters,
    sessionBinding: options.sessionBinding,
    agentKeys: options.agentKeys,
    devicePairing: options.devicePairing,
    tokens: options.tokens,
    sessions,
    table,
    welcomed: (connection, resumed) => {
      sessions.noteActivity(connection)
      sessions.attach(connection)
      presence?.connected(connection)
      if (resumed !== undefined) {
        sessions
          .restore(connection, resumed, (channel, since) => streams.rejoin(connection, channel, since))
          .catch((error: unknown) => connection.logger.error({ err: error }, 'restoring the session failed'))
      }
      audit.connect(connection)
      connection.logger.debug(
        { protocol: connection.protocolVersion, remoteAddress: connection.remoteAddress },
        'connected',
      )
      deliveries.attach(connection)
    },
    authenticated: (connection) => dispatch.authenticated(connection),
  })

  // Close hooks, in the order the subsystems must hear of it.
  table.onClose(handshake.closed)
  table.onClose((connection, end) => {
    // Frames were dropped on the way to it: its positions are no longer what it saw, so no resume.
    if (end.code === CLOSE_CODES.slow_consumer.code) sessions.forget(connection)
  })
  table.onClose((connection) => channels.unsubscribeAll(connection))
  table.onClose((connection) => streams.connectionClosed(connection))
  table.onClose((connection) => state.connectionClosed(connection))
  table.onClose((connection, { code, welcomed }) => {
    if (!welcomed) return
    table.leaveClient(connection)
    deliveries.detach(connection)
    agents.connectionClosed(connection)
    presence?.disconnected(connection, code)
    sessions.detach(connection)
  })
  table.onClose((connection, { code, welcomed }) => {
    if (welcomed) audit.disconnect(connection, code)
  })

  const authorize = createAuthorize({
    access: () => options.access,
    audit,
    accessParty,
  })
  /** The connection as policies see it (with its agent id and capabilities once it registered). */
  function accessParty(connection: AuthorizeParty): AccessParty {
    const party: AccessParty = {
      principal: connection.principal,
      role: connection.role,
      clientId: connection.clientId,
    }
    const route = agents.directory.byConnection(connection.id)
    if (route !== undefined) {
      party.agentId = route.agentId
      party.capabilities = route.capabilities
    }
    return party
  }

  // Each frame type's handler, registered by the module that owns the frame.
  const frames = createFrameRegistry()
  registerCoreFrames(frames, {
    audit,
    authorize,
    counters,
    sendToAll: (encoded) => table.sendToAll(encoded),
    bufferForAll: (encoded) => sessions.bufferForAll(encoded),
    relayBroadcast: (encoded) => {
      if (options.bus.state() !== 'local') cluster.broadcast(encoded.toString())
    },
  })
  registerChannelFrames(frames, {
    streams,
    authorize,
    unsubscribed: (connection, channel) => presence?.unsubscribed(connection, channel),
  })
  registerDeliveryFrames(frames, { deliveries, authorize })
  registerPresenceFrames(frames, { presence, authorize })
  registerStateFrames(frames, { state, authorize })
  registerPairingFrames(frames, { chatPairing: options.chatPairing })
  registerAgentFrames(frames, {
    agents,
    introductions: () => options.introductions?.(),
    signaling,
    authorize,
  })
  const dispatch = createFrameDispatch({
    config,
    counters,
    frames,
    handshake,
    activity: (connection) => sessions.noteActivity(connection),
  })

  return {
    connections,
    channels,
    streams,
    deliveries,
    heartbeat,
    /** The node registry, client directory and cross-node wakes (the gateway starts and stops it). */
    cluster,
    /** The agent directory, requests, streams and sends (the gateway starts and stops its directory). */
    agents,
    /** Stops listening to channels on the bus (at stop, before the bus closes). */
    closeRelay: () => {
      relay?.close()
      state.close()
      signaling.close()
    },
    presence,
    sessions,
    /** Shared state: reads, compare-and-set writes and watches. */
    state,
    /** The one access decision of a request on a connection (scopes, then policies; audited). */
    authorize,
    open: table.open,
    receive: dispatch.receive,
    closed: table.closed,
    /** Registers a subsystem to hear about every connection that ends. */
    onClose: table.onClose,
    authenticate,
    revokeToken: table.revokeToken,
    revokeAgentKey: table.revokeAgentKey,
    notifyConnectors: table.notifyConnectors,
    /** Sends a frame to a client id connected to this node (each node calls it for its own clients). */
    sendLocally: table.sendLocally,
    devices: handshake.devices,
    shutdown: table.shutdown,
    terminateAll: table.terminateAll,
    waitForNoConnections: table.waitForNoConnections,
    stats(): HubStats {
      return { connections: connections.size, channels: channels.size, ...counters }
    },
    listConnections: table.listConnections,
    listPairingConnections: table.listPairing,
  }
}

export type Hub = ReturnType<typeof createHub>
