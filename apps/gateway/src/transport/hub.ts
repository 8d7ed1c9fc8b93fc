import {
  type AuthenticateFrame,
  type BroadcastFrame,
  CLOSE_CODES,
  type ClientFrame,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  encodeFrame,
  errorBody,
  type HelloFrame,
  negotiateVersion,
  type PairingCheckFrame,
  type PairingResolvedFrame,
  parseClientFrame,
  type ServerFrame,
} from '@parley/protocol'
import {
  type AgentKeyStore,
  checkAgentKey,
  type DeliveryBackend,
  type DevicePairingStore,
  InvalidAgentKeyError,
  type SessionBindingStore,
  type StateStore,
  StoreError,
  type TokenStore,
} from '@parley/stores'
import type { Logger } from 'pino'
import { decideAccess } from '../access/access-gate.js'
import { createAgentLayer, isAgentLayerFrame } from '../agents/agent-layer.js'
import { allowAllAccess } from '../agents/allow-all-access.js'
import type { Introductions } from '../agents/introductions.js'
import { createSignaling } from '../agents/signaling.js'
import type { AccessParty, AccessRequest, AgentAccess } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { challengeMessage, createUsedNonces, newNonce, signatureValid } from '../auth/agent-challenge.js'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { AuthProvider } from '../auth/auth-provider.js'
import { type Authenticated, createAuthenticator } from '../auth/authenticator.js'
import { type ScopeAction, scopeAllows, scopeAllowsBroadcast } from '../auth/scopes.js'
import type { ClusterBus } from '../bus/types.js'
import { type ChannelStreams, createChannelStreams } from '../channels/channel-streams.js'
import { createChannelRelay } from '../cluster/channel-relay.js'
import { createClusterNode } from '../cluster/cluster-node.js'
import type { GatewayConfig } from '../config.js'
import { createDeliveryEngine } from '../delivery/delivery-engine.js'
import { GatewayError } from '../errors.js'
import { createHeartbeat } from '../heartbeat/heartbeat.js'
import { newId } from '../ids.js'
import type { ChatPairing } from '../pairing/chat-pairing.js'
import { createDevicePairing } from '../pairing/device-pairing.js'
import {
  type ChannelRegistryObserver,
  ObservedChannelRegistry,
} from '../presence/observed-channel-registry.js'
import { createPresenceTracker } from '../presence/presence-tracker.js'
import { createSessionResume, type DetachedSession } from '../sessions/session-resume.js'
import { createStateService } from '../state/state-service.js'
import { Connection, type ConnectionSocket } from './connection.js'
import { createHandshakeHold } from './handshake-hold.js'

export const SERVER_NAME = 'parley'
export const FEATURES = ['channels', 'broadcast', 'heartbeat', 'history', 'recovery'] as const
/** Announced only while delivery guarantees are enabled. */
export const DELIVERY_FEATURES = ['durable', 'direct', 'acks'] as const

/** How long a refused client should wait before trying again when the gateway is full. */
const SERVER_FULL_RETRY_AFTER_MS = 5_000
/** How long a refused peer gets to read why and answer the close before its socket is dropped. */
const REFUSED_CLOSE_GRACE_MS = 1_000
/** Frames a client may send ahead of its welcome (they wait for the handshake's outcome). */
const HANDSHAKE_HOLD_MAX_FRAMES = 16
/** How far the signer's clock may be from ours in an `authenticate` answer. */
export const CHALLENGE_MAX_SKEW_MS = 60_000

type ChallengeRefusal = 'nonce_reused' | 'stale_timestamp' | 'unknown_identity' | 'invalid_signature'

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
}

export interface OpenSocket {
  socket: ConnectionSocket
  remoteAddress: string | null
  userAgent: string | null
  origin: string | null
  upgradeToken: string | undefined
}

export interface HubStats {
  connections: number
  channels: number
  messagesPublished: number
  /** Frames handed to recipients by publications and broadcasts. */
  messagesDelivered: number
  broadcasts: number
  framesIn: number
  invalidFrames: number
  slowConsumers: number
  reaped: number
  /** Credentials refused (wrong, missing, or the provider failed). */
  authFailures: number
  /** Attempts refused by the failed-auth rate limit before any check. */
  authRateLimited: number
}

/**
 * The connection side of the gateway: the table of live connections, the channel table, the protocol state
 * machine of each connection (handshake, then requests) and the shared heartbeat.
 */
export function createHub(options: HubOptions) {
  const { config, logger, audit, serverVersion, backend } = options
  const connections = new Map<string, Connection>()
  /** Open, welcomed connections per client id, oldest first: the last one receives its deliveries. */
  const connectionsByClientId = new Map<string, Connection[]>()
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
  const features = [...FEATURES, ...(config.delivery.enabled ? DELIVERY_FEATURES : [])]
  const heartbeatIntervalMs = Math.max(1, Math.round(config.heartbeatInterval * 1000))
  // Bytes too: a client that is not authenticated yet must not park much memory here.
  const handshakeHold = createHandshakeHold<Connection>({
    maxFrames: HANDSHAKE_HOLD_MAX_FRAMES,
    maxBytes: config.maxPayload,
  })
  const drainWaiters = new Set<() => void>()
  /** Set by `shutdown()`, so even upgrades that passed the route's draining check before it are turned away. */
  let shutdownFrame: Buffer | undefined
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
  const authenticate = createAuthenticator({
    provider: options.authProvider,
    limiter: options.authLimiter,
    audit,
    logger: logger.child({ component: 'auth' }),
    counters,
  })
  /** Closes connections whose credential expires; cleared when they close. */
  const expiryTimers = new Map<Connection, NodeJS.Timeout>()
  const usedNonces = createUsedNonces()
  const devices = createDevicePairing({
    config: config.pairing,
    store: options.devicePairing,
    tokens: options.tokens,
    agentKeys: options.agentKeys,
    limiter: options.authLimiter,
    counters,
    admit: (connection, hello, version, outcome) =>
      admitAuthenticated(connection, hello, version, outcome, 'pairing'),
    challenge: (connection, hello, version, identity) => {
      if (connection.state !== 'pairing') return
      // Back to the handshake, with its own timeout from now rather than from the connect minutes ago.
      connection.state = 'handshaking'
      connection.handshakeStartedAt = Date.now()
      issueChallenge(connection, hello, version, identity)
    },
    logger: logger.child({ component: 'device-pairing' }),
  })

  /** The latest connection of a client id that can still take frames (one closing is skipped). */
  function connectionFor(clientId: string): Connection | undefined {
    const sameClient = connectionsByClientId.get(clientId)
    if (sameClient === undefined) return undefined
    for (let index = sameClient.length - 1; index >= 0; index -= 1) {
      const candidate = sameClient[index]
      if (candidate?.isOpen) return candidate
    }
    return undefined
  }

  const deliveries = createDeliveryEngine({
    config: config.delivery,
    backend,
    connectionFor,
    wakeElsewhere: (clientId) => cluster.wake(clientId),
    sendElsewhere: (clientId, frame) => cluster.sendTo(clientId, frame),
    logger: logger.child({ component: 'delivery' }),
    audit,
    ...options.deliveryTimers,
  })

  const agents = createAgentLayer({
    config,
    bus: options.bus,
    logger: logger.child({ component: 'agents' }),
    audit,
    ...(options.access === undefined ? {} : { access: () => options.access as AgentAccess }),
    deliveries,
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
  })

  const cluster = createClusterNode({
    bus: options.bus,
    logger: logger.child({ component: 'cluster' }),
    version: serverVersion,
    startedAt: options.startedAt ?? Date.now(),
    connections: () => connections.size,
    listenedChannels: () => relay?.listened() ?? 0,
    localClients: () => connectionsByClientId.keys(),
    isLocal: (clientId) => connectionFor(clientId) !== undefined,
    sendLocally: (clientId, frame) => connectionFor(clientId)?.send(frame),
    pump: (clientId) => deliveries.pump(clientId),
    broadcastLocally: (frame) => {
      const encoded = Buffer.from(frame)
      for (const recipient of connections.values()) {
        if (recipient.isOpen && recipient.send(encoded)) counters.messagesDelivered += 1
      }
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
      // Gone now, without waiting for a dead peer's closing handshake: its deliveries go back to pending and
      // its session is parked for a resume, as after any close.
      closed(connection, CLOSE_CODES.heartbeat_timeout.code)
    },
  })

  function sendError(connection: Connection, error: ErrorBody, id?: string): void {
    connection.sendFrame(id === undefined ? { type: 'error', ...error } : { type: 'error', id, ...error })
  }

  function fail(connection: Connection, code: ErrorCode, message: string, id?: string): void {
    sendError(connection, errorBody(code, message), id)
  }

  /**
   * Answers a request handled asynchronously (it waits for the store) when it fails. A store that fails
   * is a dependency that is down: the client gets a retryable `unavailable`, the log gets the reason.
   */
  function answerFailure(connection: Connection, type: string, id: string | undefined, task: Promise<void>) {
    task.catch((error: unknown) => {
      if (error instanceof GatewayError) {
        sendError(connection, errorBody(error.code, error.message, error.retryAfterMs), id)
      } else if (error instanceof StoreError && ERROR_CODES[error.code].status < 500) {
        sendError(connection, errorBody(error.code, error.message), id)
      } else {
        connection.logger.error({ err: error, type }, 'request failed in the delivery store')
        fail(connection, 'unavailable', 'the message store is unavailable; try again', id)
      }
    })
  }

  function open(socket: OpenSocket): Connection {
    const id = newId('con')
    const connection = new Connection({
      id,
      logger: logger.child({ connectionId: id }),
      ...socket,
      maxBufferedBytes: config.maxBufferedBytes,
      now: Date.now(),
      onSlowConsumer: (slow) => {
        counters.slowConsumers += 1
        sessions.forget(slow)
        channels.unsubscribeAll(slow)
        slow.logger.warn('closed slow consumer')
        // Cut now: it leaves the connection table (and parley_connections) without waiting for its socket.
        queueMicrotask(() => closed(slow, CLOSE_CODES.slow_consumer.code))
      },
    })
    if (shutdownFrame !== undefined) {
      // Its upgrade was accepted just before the drain began: tell it like the others, never register it.
      connection.send(shutdownFrame)
      refuse(connection, 'going_away', 'gateway is shutting down')
      return connection
    }
    if (connections.size >= config.maxConnections) {
      // Not registered: it is told why and closed before it costs anything more.
      sendError(
        connection,
        errorBody(
          'server_full',
          `the gateway is at its limit of ${config.maxConnections} connections`,
          SERVER_FULL_RETRY_AFTER_MS,
        ),
      )
      refuse(connection, 'server_full', 'server_full')
      return connection
    }
    connections.set(connection.id, connection)
    return connection
  }

  /** Closes a connection that was never registered. */
  function refuse(connection: Connection, reason: 'server_full' | 'going_away', message: string): void {
    connection.close(reason, message)
    // Refused sockets are not in the connection table, so nothing bounds them: a peer that never answers
    // the close would otherwise hold its socket for ws's 30 s close timeout.
    setTimeout(() => connection.terminate(), REFUSED_CLOSE_GRACE_MS).unref()
  }

  function receive(connection: Connection, data: unknown): void {
    connection.lastSeenAt = Date.now()
    connection.messagesIn += 1
    counters.framesIn += 1
    if (!handshakeHold.hold(connection, data)) handleFrame(connection, data)
  }

  /** Ends an authentication and handles the frames that arrived during it. */
  function authenticated(connection: Connection): void {
    connection.authenticating = false
    handshakeHold.release(connection, (data) => handleFrame(connection, data))
  }

  function handleFrame(connection: Connection, data: unknown): void {
    if (connection.state === 'closing' || connection.state === 'closed') return
    if (typeof data !== 'string') {
      counters.invalidFrames += 1
      fail(connection, 'invalid_frame', 'binary frames are not supported; send JSON text frames')
      return
    }
    const size = Buffer.byteLength(data)
    if (size > config.maxPayload) {
      counters.invalidFrames += 1
      fail(
        connection,
        'payload_too_large',
        `frame of ${size} bytes exceeds maxPayload of ${config.maxPayload} bytes`,
      )
      return
    }
    const parsed = parseClientFrame(data)
    if (!parsed.ok) {
      counters.invalidFrames += 1
      sendError(connection, parsed.error, parsed.id)
      return
    }
    try {
      dispatch(connection, parsed.frame, size)
    } catch (error) {
      const id = 'id' in parsed.frame ? parsed.frame.id : undefined
      if (error instanceof GatewayError) {
        sendError(connection, errorBody(error.code, error.message, error.retryAfterMs), id)
        return
      }
      connection.logger.error({ err: error, type: parsed.frame.type }, 'frame handler failed')
      fail(connection, 'internal', 'internal server error', id)
    }
  }

  function dispatch(connection: Connection, frame: ClientFrame, size: number): void {
    if (connection.state === 'pairing') {
      waitingForPairing(connection, frame)
      return
    }
    if (connection.state === 'handshaking') {
      if (frame.type === 'authenticate' && connection.challenge !== undefined) {
        answerChallenge(connection, frame)
      } else if (
        frame.type === 'hello' &&
        (connection.authenticating || connection.challenge !== undefined)
      ) {
        fail(connection, 'invalid_state', 'the handshake is already in progress', frame.id)
      } else if (frame.type === 'hello') {
        helloAuthenticated(connection, frame)
      } else
        fail(
          connection,
          'handshake_required',
          'send hello before any other frame',
          'id' in frame ? frame.id : undefined,
        )
      return
    }
    if (frame.type !== 'ping' && frame.type !== 'pong') sessions.noteActivity(connection)
    if (isAgentLayerFrame(frame)) {
      const task = agents.handle(connection, frame, size)
      if (task !== undefined)
        answerFailure(connection, frame.type, 'id' in frame ? frame.id : undefined, task)
      return
    }
    switch (frame.type) {
      case 'hello':
        fail(connection, 'invalid_state', 'the handshake is already complete', frame.id)
        break
      case 'subscribe':
        if (!permitted(connection, 'subscribe', frame.channel, frame.id)) break
        answerFailure(connection, frame.type, frame.id, streams.subscribe(connection, frame))
        break
      case 'unsubscribe':
        answerFailure(connection, frame.type, frame.id, streams.unsubscribe(connection, frame))
        presence?.unsubscribed(connection, frame.channel)
        break
      case 'publish':
        if (!permitted(connection, 'publish', frame.channel, frame.id)) break
        streams.publish(connection, frame, size)
        break
      case 'send':
        if (!permitted(connection, 'send', frame.to, frame.id)) break
        answerFailure(connection, frame.type, frame.id, deliveries.send(connection, frame, size))
        break
      case 'ack':
        answerFailure(connection, frame.type, frame.id, deliveries.ack(connection, frame))
        break
      case 'nack':
        answerFailure(connection, frame.type, frame.id, deliveries.nack(connection, frame))
        break
      case 'broadcast':
        if (!scopeAllowsBroadcast(connection.scopes)) {
          deny(connection, 'broadcast', 'publish:*', {}, frame.id)
          break
        }
        broadcast(connection, frame, size)
        break
      case 'ping': {
        const ts = frame.ts ?? Date.now()
        connection.sendFrame(
          frame.id === undefined ? { type: 'pong', ts } : { type: 'pong', id: frame.id, ts },
        )
        break
      }
      case 'pong':
        // Liveness was already noted on arrival.
        break
      case 'authenticate':
        if (connection.agentKeyId !== undefined) {
          fail(connection, 'nonce_reused', 'the challenge of this connection was already answered', frame.id)
        } else {
          fail(connection, 'invalid_state', 'the handshake is already complete', frame.id)
        }
        break
      case 'pairing_check':
        if (connection.role !== 'connector') {
          fail(
            connection,
            'forbidden',
            `${connection.principal} may not check pairings: it needs the role connector`,
            frame.id,
          )
          break
        }
        answerFailure(connection, frame.type, frame.id, pairingCheck(connection, frame))
        break
      case 'presence_set':
        if (presence === undefined) fail(connection, 'unavailable', 'presence is disabled', frame.id)
        else presence.set(connection, frame)
        break
      case 'introduce':
      case 'introduction_answer': {
        const introductions = options.introductions?.()
        if (introductions === undefined) {
          fail(
            connection,
            'unavailable',
            'introductions are not available',
            'id' in frame ? frame.id : undefined,
          )
        } else if (frame.type === 'introduce') introductions.introduce(connection, frame)
        else introductions.answer(connection, frame)
        break
      }
      case 'presence_get':
        if (presence === undefined) {
          fail(connection, 'unavailable', 'presence is disabled', frame.id)
          break
        }
        if (frame.channel !== undefined && !permitted(connection, 'subscribe', frame.channel, frame.id)) break
        answerFailure(connection, frame.type, frame.id, presence.get(connection, frame))
        break
      case 'state_get':
      case 'state_set':
      case 'state_delete':
      case 'state_list':
      case 'state_history':
      case 'state_watch':
      case 'state_unwatch': {
        // Scopes first, as for channels: the namespace is the channel `state:<namespace>`.
        const write = frame.type === 'state_set' || frame.type === 'state_delete'
        const scope = write ? 'publish' : 'subscribe'
        if (
          frame.type !== 'state_unwatch' &&
          !permitted(connection, scope, `state:${frame.namespace}`, frame.id, 'scopes only')
        )
          break
        answerFailure(connection, frame.type, frame.id, state.handle(connection, frame))
        break
      }
      case 'signal':
        if (!permitted(connection, 'send', frame.target, frame.id, 'scopes only')) break
        answerFailure(connection, frame.type, frame.id, signaling.signal(connection, frame))
        break
    }
  }

  async function pairingCheck(connection: Connection, frame: PairingCheckFrame): Promise<void> {
    const result = await options.chatPairing().check(frame)
    connection.sendFrame({ type: 'reply', id: frame.id, result })
  }

  /** A device waiting for the operator may only keep the connection alive. */
  function waitingForPairing(connection: Connection, frame: ClientFrame): void {
    if (frame.type === 'ping') {
      const ts = frame.ts ?? Date.now()
      connection.sendFrame(frame.id === undefined ? { type: 'pong', ts } : { type: 'pong', id: frame.id, ts })
      return
    }
    if (frame.type === 'pong') return
    fail(
      connection,
      'invalid_state',
      'this device is waiting for pairing approval; only ping and pong are accepted',
      'id' in frame ? frame.id : undefined,
    )
  }

  /**
   * Whether the connection's scopes, then the policies, allow `action` on `target` (`send` is policy action
   * `message` to the recipient client id); answers `forbidden`, `policy_denied` or `introduction_required`
   * and audits when not.
   */
  function permitted(
    connection: Connection,
    action: ScopeAction,
    target: string,
    id: string,
    /** Shared state and signals check the policies themselves (their own audit kind and target party). */
    check: 'scopes and policies' | 'scopes only' = 'scopes and policies',
  ): boolean {
    const where = action === 'send' ? { target } : { channel: target }
    if (!scopeAllows(connection.scopes, action, target)) {
      deny(connection, action, `${action}:${target}`, where, id)
      return false
    }
    if (options.access === undefined || check === 'scopes only') return true
    const request: AccessRequest =
      action === 'send'
        ? {
            action: 'message',
            caller: accessParty(connection),
            target: { principal: target, clientId: target },
          }
        : { action, caller: accessParty(connection), target: { channel: target } }
    const answer = decideAccess(options.access, audit, request, {
      kind: action,
      subject: connection,
      ...where,
    })
    if (!answer.allowed) sendError(connection, answer.error, id)
    return answer.allowed
  }

  /** The connection as policies see it (with its agent id and capabilities once it registered). */
  function accessParty(connection: Connection): AccessParty {
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

  /** Sends a frame to the client id's connection on this node; false when it has none here. */
  function sendLocally(clientId: string, frame: ServerFrame): boolean {
    return connectionFor(clientId)?.sendFrame(frame) ?? false
  }

  function deny(
    connection: Connection,
    kind: ScopeAction | 'broadcast',
    scope: string,
    where: { channel?: string; target?: string },
    id: string,
  ): void {
    audit.denied(connection, kind, where, `missing scope ${scope}`)
    fail(connection, 'forbidden', `${connection.principal} may not do this: it needs the scope ${scope}`, id)
  }

  /** Authenticates `hello`, then welcomes. Frames arriving meanwhile are refused as before the handshake. */
  function helloAuthenticated(connection: Connection, frame: HelloFrame): void {
    const version = negotiateVersion(frame.protocol)
    if (version === undefined) {
      fail(
        connection,
        'unsupported_protocol',
        `no common protocol version: client speaks ${frame.protocol.min}-${frame.protocol.max}`,
        frame.id,
      )
      connection.close('unsupported_protocol')
      return
    }
    // Pairing goes before the identity: an agent registers its key by pairing with both.
    if (
      frame.pairing !== undefined &&
      frame.auth?.token === undefined &&
      connection.upgradeToken === undefined
    ) {
      const refusal = pairingIdentityRefusal(frame)
      if (refusal !== undefined) {
        fail(connection, 'bad_request', refusal, frame.id)
        return
      }
      devices.wait(connection, frame, version).catch((error: unknown) => {
        connection.logger.error({ err: error }, 'device pairing request failed')
        if (connection.state !== 'pairing') return
        fail(connection, 'unavailable', 'the pairing request could not be recorded; try again', frame.id)
        connection.close('internal_error', 'pairing store unavailable')
      })
      return
    }
    if (frame.auth?.identity !== undefined) {
      issueChallenge(connection, frame, version, frame.auth.identity)
      return
    }
    connection.authenticating = true
    admit(connection, frame, version)
      .catch((error: unknown) => {
        connection.logger.error({ err: error }, 'handshake failed')
        if (connection.state !== 'handshaking') return
        fail(connection, 'internal', 'internal server error', frame.id)
        connection.close('internal_error')
      })
      .finally(() => authenticated(connection))
  }

  /** Why a pairing `hello`'s identity cannot be registered, if it cannot: both or neither, and the did of the key. */
  function pairingIdentityRefusal(frame: HelloFrame): string | undefined {
    const identity = frame.auth?.identity
    const publicKey = frame.pairing?.publicKey
    if (identity === undefined && publicKey === undefined) return undefined
    if (identity === undefined) return 'pairing.publicKey needs auth.identity (the did:key of that key)'
    if (publicKey === undefined)
      return 'pairing with auth.identity needs pairing.publicKey (its raw public key)'
    try {
      checkAgentKey(identity, publicKey)
      return undefined
    } catch (error) {
      if (error instanceof InvalidAgentKeyError) return `pairing identity refused: ${error.message}`
      throw error
    }
  }

  async function admit(connection: Connection, frame: HelloFrame, version: number): Promise<void> {
    const token = frame.auth?.token ?? connection.upgradeToken
    const outcome = await authenticate(
      {
        ...(token === undefined ? {} : { token }),
        remoteAddress: connection.remoteAddress,
        origin: connection.origin,
        ...(frame.clientId === undefined ? {} : { clientId: frame.clientId }),
        transport: connection.transport,
      },
      { connectionId: connection.id, surface: connection.transport },
    )
    // It may have gone (or timed out) while the provider was thinking.
    if (connection.state !== 'handshaking') return
    if (!outcome.ok) {
      sendError(connection, errorBody(outcome.code, outcome.message, outcome.retryAfterMs), frame.id)
      // A failure on our side is worth a reconnect; wrong credentials (or guessing too fast) are not.
      connection.close(outcome.code === 'unavailable' ? 'internal_error' : 'unauthorized', outcome.message)
      return
    }
    await admitAuthenticated(connection, frame, version, outcome, 'handshaking')
  }

  /** Records the session and welcomes; `from` is the state the connection must still be in. */
  async function admitAuthenticated(
    connection: Connection,
    frame: HelloFrame,
    version: number,
    outcome: Authenticated,
    from: 'handshaking' | 'pairing',
  ): Promise<void> {
    let resumed: DetachedSession | undefined
    if (frame.resume !== undefined) {
      const holder = sessions.holderOf(frame.resume.sessionId, outcome.principal.id, frame.clientId)
      if (holder.kind === 'forbidden') {
        refuseResume(connection, frame, outcome)
        return
      }
      if (holder.kind === 'take_over') {
        holder.connection.logger.info({ by: connection.id }, 'session taken over by a new connection')
        holder.connection.close('session_taken_over', 'another connection resumed this session')
        closed(holder.connection, CLOSE_CODES.session_taken_over.code)
      }
      const claim = await sessions.claim(frame.resume.sessionId, outcome.principal.id, frame.clientId)
      if (connection.state !== from) return
      if (claim.kind === 'forbidden') {
        refuseResume(connection, frame, outcome)
        return
      }
      if (claim.kind === 'resume') resumed = claim.session
      else connection.logger.debug({ reason: claim.reason }, 'session not resumed; opening a fresh one')
    }
    if (resumed !== undefined) {
      welcome(connection, frame, version, resumed.sessionId, outcome, resumed)
      return
    }
    const sessionId = newId('ses')
    const sessionBinding = options.sessionBinding()
    if (sessionBinding !== undefined) {
      try {
        await sessionBinding.bind(sessionId, {
          principal: outcome.principal.id,
          role: outcome.principal.role,
          metadata: { scopes: outcome.principal.scopes, connectionId: connection.id },
        })
      } catch (error) {
        // A store that throws during auth means deny; the client may retry once it is back.
        connection.logger.error({ err: error }, 'session binding failed; refusing the connection')
        if (connection.state !== from) return
        fail(connection, 'unavailable', 'the session could not be recorded; try again', frame.id)
        connection.close('internal_error', 'session store unavailable')
        return
      }
      if (connection.state !== from) return
    }
    welcome(connection, frame, version, sessionId, outcome)
  }

  /**
   * A `hello.resume` named a session of another principal: refused and audited, and the connection stays in
   * the handshake so the client can say `hello` again without `resume`.
   */
  function refuseResume(connection: Connection, frame: HelloFrame, outcome: Authenticated): void {
    audit.authFailure({
      connectionId: connection.id,
      ...(frame.clientId === undefined ? {} : { clientId: frame.clientId }),
      detail: `websocket: ${outcome.principal.id} asked to resume a session bound to another principal`,
    })
    connection.challenge = undefined
    connection.state = 'handshaking'
    fail(
      connection,
      'forbidden',
      'this session belongs to another principal; say hello without resume',
      frame.id,
    )
  }

  /** Answers a `hello` with `auth.identity`: a fresh nonce to sign; the handshake waits for `authenticate`. */
  function issueChallenge(
    connection: Connection,
    frame: HelloFrame,
    version: number,
    identity: string,
  ): void {
    const limit = options.authLimiter.check(connection.remoteAddress)
    if (!limit.allowed) {
      counters.authRateLimited += 1
      const message = 'too many failed authentication attempts from this address'
      sendError(connection, errorBody('rate_limited', message, limit.retryAfterMs), frame.id)
      connection.close('unauthorized', message)
      return
    }
    const nonce = newNonce()
    connection.challenge = { identity, nonce, answered: false, hello: frame, version }
    connection.sendFrame({
      type: 'challenge',
      ...(frame.id === undefined ? {} : { id: frame.id }),
      nonce,
      timestamp: Date.now(),
      maxSkewMs: CHALLENGE_MAX_SKEW_MS,
    })
  }

  /**
   * Checks an `authenticate` in a fixed order: the nonce (issued to this connection, not yet used), the
   * timestamp, the key (registered, live), the signature. Any refusal closes with 4001.
   */
  function answerChallenge(connection: Connection, frame: AuthenticateFrame): void {
    const challenge = connection.challenge
    if (challenge === undefined) return
    if (challenge.answered || frame.nonce !== challenge.nonce || usedNonces.has(frame.nonce)) {
      refuseChallenge(
        connection,
        frame,
        'nonce_reused',
        'the nonce was not issued to this connection or was already used',
      )
      return
    }
    // Spent before anything asynchronous: a second answer racing this one is a replay.
    challenge.answered = true
    usedNonces.add(challenge.nonce)
    if (Math.abs(Date.now() - frame.timestamp) > CHALLENGE_MAX_SKEW_MS) {
      refuseChallenge(
        connection,
        frame,
        'stale_timestamp',
        `the signed timestamp is more than ${CHALLENGE_MAX_SKEW_MS} ms from the gateway's clock`,
      )
      return
    }
    if (frame.identity !== challenge.identity) {
      refuseChallenge(connection, frame, 'unknown_identity', 'authenticate names another identity than hello')
      return
    }
    connection.authenticating = true
    verifyIdentity(connection, frame, challenge)
      .catch((error: unknown) => {
        connection.logger.error({ err: error }, 'agent key check failed; refusing the connection')
        if (connection.state !== 'handshaking') return
        counters.authFailures += 1
        fail(connection, 'unavailable', 'the identity could not be checked; try again', frame.id)
        connection.close('internal_error', 'agent key store unavailable')
      })
      .finally(() => authenticated(connection))
  }

  async function verifyIdentity(
    connection: Connection,
    frame: AuthenticateFrame,
    challenge: NonNullable<Connection['challenge']>,
  ): Promise<void> {
    const key = await options.agentKeys().get(frame.identity)
    if (connection.state !== 'handshaking') return
    if (key === undefined) {
      refuseChallenge(
        connection,
        frame,
        'unknown_identity',
        'the identity is not registered, or its key was revoked',
      )
      return
    }
    const message = challengeMessage(challenge.nonce, frame.timestamp, frame.identity)
    if (!signatureValid(key.publicKey, message, frame.signature)) {
      refuseChallenge(
        connection,
        frame,
        'invalid_signature',
        'the signature does not verify with the registered key',
      )
      return
    }
    await admitAuthenticated(
      connection,
      challenge.hello,
      challenge.version,
      {
        ok: true,
        principal: { id: key.id, role: key.role, scopes: key.scopes },
        tokenId: undefined,
        expiresAt: undefined,
        metadata: { agentKeyId: key.id, agentName: key.name },
      },
      'handshaking',
    )
  }

  /** Refuses an `authenticate`: counted and audited like any failed authentication, then closed with 4001. */
  function refuseChallenge(
    connection: Connection,
    frame: AuthenticateFrame,
    code: ChallengeRefusal,
    message: string,
  ): void {
    counters.authFailures += 1
    options.authLimiter.recordFailure(connection.remoteAddress)
    audit.authFailure({
      connectionId: connection.id,
      ...(connection.challenge?.hello.clientId === undefined
        ? {}
        : { clientId: connection.challenge.hello.clientId }),
      detail: `${connection.transport}: ${code} for ${frame.identity}${connection.remoteAddress === null ? '' : ` from ${connection.remoteAddress}`}`,
    })
    fail(connection, code, message, frame.id)
    connection.close('unauthorized', message)
  }

  function welcome(
    connection: Connection,
    frame: HelloFrame,
    version: number,
    sessionId: string,
    authenticated: Authenticated,
    resumed?: DetachedSession,
  ): void {
    const { principal } = authenticated
    connection.principal = principal.id
    connection.role = principal.role
    connection.scopes = principal.scopes
    connection.tokenId = authenticated.tokenId
    connection.agentKeyId =
      typeof authenticated.metadata.agentKeyId === 'string' ? authenticated.metadata.agentKeyId : undefined
    connection.challenge = undefined
    connection.deviceRequestId = undefined
    if (authenticated.expiresAt !== undefined) closeOnExpiry(connection, authenticated.expiresAt)
    connection.state = 'open'
    connection.protocolVersion = version
    connection.sessionId = sessionId
    connection.clientId = frame.clientId ?? resumed?.clientId ?? newId('client')
    connection.clientIdChosen = frame.clientId !== undefined || resumed?.clientIdChosen === true
    const sameClient = connectionsByClientId.get(connection.clientId)
    if (sameClient === undefined) {
      connectionsByClientId.set(connection.clientId, [connection])
      cluster.clientConnected(connection.clientId)
    } else sameClient.push(connection)
    connection.logger = connection.logger.child({ clientId: connection.clientId })
    connection.sendFrame({
      type: 'welcome',
      ...(frame.id === undefined ? {} : { id: frame.id }),
      protocol: version,
      sessionId: connection.sessionId,
      connectionId: connection.id,
      clientId: connection.clientId,
      heartbeatIntervalMs,
      limits: { maxPayload: config.maxPayload, maxSubscriptions: config.maxSubscriptions },
      features,
      server: { name: SERVER_NAME, version: serverVersion },
      principal: { id: principal.id, role: principal.role, scopes: principal.scopes },
      transport: connection.transport,
      node: options.bus.nodeId,
      ...(frame.resume === undefined ? {} : { resumed: resumed !== undefined }),
    })
    sessions.noteActivity(connection)
    sessions.attach(connection)
    presence?.connected(connection)
    if (resumed !== undefined) {
      sessions
        .restore(connection, resumed, (channel, since) => streams.rejoin(connection, channel, since))
        .catch((error: unknown) => connection.logger.error({ err: error }, 'restoring the session failed'))
    }
    audit.connect(connection)
    connection.logger.debug({ protocol: version, remoteAddress: connection.remoteAddress }, 'connected')
    deliveries.attach(connection)
  }

  function broadcast(connection: Connection, frame: BroadcastFrame, size: number): void {
    const id = newId('msg')
    const timestamp = Date.now()
    const encoded = encodeOutbound({
      type: 'broadcast_message',
      data: frame.data,
      id,
      source: connection.clientId,
      timestamp,
    })
    let delivered = 0
    for (const recipient of connections.values()) {
      if (recipient.isOpen && recipient.send(encoded)) delivered += 1
    }
    sessions.bufferForAll(encoded)
    if (options.bus.state() !== 'local') cluster.broadcast(encoded.toString())
    counters.broadcasts += 1
    counters.messagesDelivered += delivered
    connection.sendFrame({ type: 'reply', id: frame.id, result: { id, delivered, timestamp } })
    audit.broadcast(connection, size, delivered)
  }

  function closeOnExpiry(connection: Connection, expiresAt: number): void {
    // setTimeout takes at most 2^31-1 ms (about 24.8 days); a later expiry is re-armed when that fires.
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1)
    const timer = setTimeout(() => {
      expiryTimers.delete(connection)
      if (Date.now() < expiresAt) return closeOnExpiry(connection, expiresAt)
      endAuthentication(connection, 'credentials expired')
    }, delay)
    timer.unref()
    expiryTimers.set(connection, timer)
  }

  /** Tells a connection its credentials are no longer valid and closes it with 4001. */
  function endAuthentication(connection: Connection, message: string): void {
    if (!connection.isOpen) return
    fail(connection, 'unauthorized', message)
    connection.close('unauthorized', message)
  }

  /** Closes every connection authenticated with the API token `tokenId`; resolves how many there were. */
  function revokeToken(tokenId: string): number {
    let closedCount = 0
    for (const connection of connections.values()) {
      if (connection.tokenId !== tokenId || !connection.isOpen) continue
      endAuthentication(connection, 'token revoked')
      closedCount += 1
    }
    return closedCount
  }

  /** Closes every connection authenticated with the agent key `id`; resolves how many there were. */
  function revokeAgentKey(id: string): number {
    let closedCount = 0
    for (const connection of connections.values()) {
      if (connection.agentKeyId !== id || !connection.isOpen) continue
      endAuthentication(connection, 'agent key revoked')
      closedCount += 1
    }
    return closedCount
  }

  /** Sends `pairing_resolved` to every open connection of role connector. */
  function notifyConnectors(frame: PairingResolvedFrame): number {
    const encoded = Buffer.from(encodeFrame(frame))
    let notified = 0
    for (const connection of connections.values()) {
      if (connection.isOpen && connection.role === 'connector' && connection.send(encoded)) notified += 1
    }
    return notified
  }

  function closed(connection: Connection, code: number): void {
    if (connection.state === 'closed') return
    devices.closed(connection)
    connection.challenge = undefined
    const expiry = expiryTimers.get(connection)
    if (expiry !== undefined) {
      clearTimeout(expiry)
      expiryTimers.delete(connection)
    }
    const welcomed = connection.clientId !== ''
    connection.markClosed()
    if (connections.get(connection.id) !== connection) return
    connections.delete(connection.id)
    channels.unsubscribeAll(connection)
    streams.connectionClosed(connection)
    state.connectionClosed(connection)
    if (welcomed) {
      const sameClient = connectionsByClientId.get(connection.clientId)
      const remaining = sameClient?.filter((candidate) => candidate !== connection) ?? []
      if (remaining.length === 0) {
        connectionsByClientId.delete(connection.clientId)
        cluster.clientDisconnected(connection.clientId)
      } else connectionsByClientId.set(connection.clientId, remaining)
      deliveries.detach(connection)
      agents.connectionClosed(connection)
      presence?.disconnected(connection)
      sessions.detach(connection)
    }
    if (welcomed) audit.disconnect(connection, code)
    connection.logger.debug({ code }, 'disconnected')
    if (connections.size === 0) for (const resolve of drainWaiters) resolve()
  }

  /** Resolves true once no connection is left, or false after `timeoutMs`. */
  function waitForNoConnections(timeoutMs: number): Promise<boolean> {
    if (connections.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (empty: boolean) => {
        clearTimeout(timer)
        drainWaiters.delete(onEmpty)
        resolve(empty)
      }
      const onEmpty = () => done(true)
      const timer = setTimeout(() => done(false), timeoutMs)
      drainWaiters.add(onEmpty)
    })
  }

  /** Tells every client the gateway is going away, then closes them with `going_away`. */
  function shutdown(reason: string, reconnectAfterMs: number): void {
    const encoded = Buffer.from(encodeFrame({ type: 'shutdown', reason, reconnectAfterMs }))
    shutdownFrame = encoded
    for (const connection of connections.values()) {
      connection.send(encoded)
      connection.close('going_away', reason)
    }
  }

  /** Drops connections whose peers never completed the close handshake. */
  function terminateAll(): void {
    for (const connection of connections.values()) connection.terminate()
  }

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
    open,
    receive,
    closed,
    authenticate,
    revokeToken,
    revokeAgentKey,
    notifyConnectors,
    /** Sends a frame to a client id connected to this node (each node calls it for its own clients). */
    sendLocally,
    devices,
    shutdown,
    terminateAll,
    waitForNoConnections,
    stats(): HubStats {
      return { connections: connections.size, channels: channels.size, ...counters }
    },
    listConnections() {
      return [...connections.values()]
        .filter((connection) => connection.isOpen)
        .map((connection) => connection.info())
    },
  }
}

export type Hub = ReturnType<typeof createHub>

/**
 * Encodes a frame carrying client data once for fan-out. Data that parsed but cannot be serialised again
 * (nested deeper than the stack allows) is the client's mistake, not a server error.
 */
function encodeOutbound(frame: ServerFrame): Buffer {
  try {
    return Buffer.from(encodeFrame(frame))
  } catch (error) {
    if (error instanceof RangeError) throw new GatewayError('invalid_frame', 'data is nested too deeply')
    throw error
  }
}
