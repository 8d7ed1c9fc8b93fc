import { CLOSE_CODES, errorBody, type HelloFrame, negotiateVersion } from '@parley/protocol'
import {
  type AgentKeyStore,
  checkAgentKey,
  type DevicePairingStore,
  InvalidAgentKeyError,
  type SessionBindingStore,
  type TokenStore,
} from '@parley/stores'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { AuthCounters, Authenticate, Authenticated } from '../auth/authenticator.js'
import type { GatewayConfig } from '../config.js'
import { newId } from '../ids.js'
import { createDevicePairing } from '../pairing/device-pairing.js'
import type { CloseHook } from '../peers/close-hooks.js'
import type { Connection } from '../peers/connection.js'
import type { DetachedSession, SessionResume } from '../sessions/session-resume.js'
import { createChallenge } from './challenge.js'
import type { ConnectionTable } from './connection-table.js'

export const SERVER_NAME = 'parley'
export const FEATURES = ['channels', 'broadcast', 'heartbeat', 'history', 'recovery'] as const
/** Announced only while delivery guarantees are enabled. */
export const DELIVERY_FEATURES = ['durable', 'direct', 'acks'] as const

export interface HandshakeOptions {
  config: GatewayConfig
  logger: Logger
  audit: ConnectionAudit
  serverVersion: string
  nodeId: string
  heartbeatIntervalMs: number
  authenticate: Authenticate
  authLimiter: AuthFailureLimiter
  counters: AuthCounters & { authRateLimited: number }
  sessionBinding: () => SessionBindingStore | undefined
  agentKeys: () => AgentKeyStore
  devicePairing: () => DevicePairingStore
  tokens: () => TokenStore
  sessions: Pick<SessionResume, 'holderOf' | 'claim'>
  table: Pick<ConnectionTable, 'closed' | 'joinClient' | 'endAuthentication'>
  /** The welcome was sent: the subsystems take the connection on (and restore a resumed session). */
  welcomed: (connection: Connection, resumed: DetachedSession | undefined) => void
  /** An authentication ended, however: the frames held meanwhile are handled. */
  authenticated: (connection: Connection) => void
}

/**
 * The handshake of a connection: `hello` (version, credentials), the agent identity challenge, the wait of
 * a device for pairing approval, the resume of a session, and the `welcome`.
 */
export function createHandshake(options: HandshakeOptions) {
  const { config, audit, sessions, table } = options
  const features = [...FEATURES, ...(config.delivery.enabled ? DELIVERY_FEATURES : [])]
  /** Closes connections whose credential expires; cleared when they close. */
  const expiryTimers = new Map<Connection, NodeJS.Timeout>()
  const challenge = createChallenge({
    audit,
    authLimiter: options.authLimiter,
    agentKeys: options.agentKeys,
    counters: options.counters,
    admit: (connection, hello, version, outcome) =>
      admitAuthenticated(connection, hello, version, outcome, 'handshaking'),
    authenticated: options.authenticated,
  })
  const devices = createDevicePairing({
    config: config.pairing,
    store: options.devicePairing,
    tokens: options.tokens,
    agentKeys: options.agentKeys,
    limiter: options.authLimiter,
    counters: options.counters,
    admit: (connection, hello, version, outcome) =>
      admitAuthenticated(connection, hello, version, outcome, 'pairing'),
    challenge: (connection, hello, version, identity) => {
      if (connection.state !== 'pairing') return
      // Back to the handshake, with its own timeout from now rather than from the connect minutes ago.
      connection.state = 'handshaking'
      connection.handshakeStartedAt = Date.now()
      challenge.issue(connection, hello, version, identity)
    },
    logger: options.logger.child({ component: 'device-pairing' }),
  })

  function fail(
    connection: Connection,
    code: 'bad_request' | 'internal' | 'unavailable',
    message: string,
    id?: string,
  ) {
    connection.sendError(errorBody(code, message), id)
  }

  /** Authenticates `hello`, then welcomes. Frames arriving meanwhile are refused as before the handshake. */
  function hello(connection: Connection, frame: HelloFrame): void {
    const version = negotiateVersion(frame.protocol)
    if (version === undefined) {
      const message = `no common protocol version: client speaks ${frame.protocol.min}-${frame.protocol.max}`
      connection.sendError(errorBody('unsupported_protocol', message), frame.id)
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
      challenge.issue(connection, frame, version, frame.auth.identity)
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
      .finally(() => options.authenticated(connection))
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
    const outcome = await options.authenticate(
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
      connection.sendError(errorBody(outcome.code, outcome.message, outcome.retryAfterMs), frame.id)
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
        table.closed(holder.connection, CLOSE_CODES.session_taken_over.code)
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
    const message = 'this session belongs to another principal; say hello without resume'
    connection.sendError(errorBody('forbidden', message), frame.id)
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
    table.joinClient(connection)
    connection.logger = connection.logger.child({ clientId: connection.clientId })
    connection.sendFrame({
      type: 'welcome',
      ...(frame.id === undefined ? {} : { id: frame.id }),
      protocol: version,
      sessionId: connection.sessionId,
      connectionId: connection.id,
      clientId: connection.clientId,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      limits: { maxPayload: config.maxPayload, maxSubscriptions: config.maxSubscriptions },
      features,
      server: { name: SERVER_NAME, version: options.serverVersion },
      principal: { id: principal.id, role: principal.role, scopes: principal.scopes },
      transport: connection.transport,
      node: options.nodeId,
      ...(frame.resume === undefined ? {} : { resumed: resumed !== undefined }),
    })
    options.welcomed(connection, resumed)
  }

  function closeOnExpiry(connection: Connection, expiresAt: number): void {
    // setTimeout takes at most 2^31-1 ms (about 24.8 days); a later expiry is re-armed when that fires.
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1)
    const timer = setTimeout(() => {
      expiryTimers.delete(connection)
      if (Date.now() < expiresAt) return closeOnExpiry(connection, expiresAt)
      table.endAuthentication(connection, 'credentials expired')
    }, delay)
    timer.unref()
    expiryTimers.set(connection, timer)
  }

  /** Its close hook: stops waiting for pairing, forgets the challenge and the credential's expiry. */
  const closed: CloseHook = (connection) => {
    devices.closed(connection)
    connection.challenge = undefined
    const expiry = expiryTimers.get(connection)
    if (expiry !== undefined) {
      clearTimeout(expiry)
      expiryTimers.delete(connection)
    }
  }

  return { hello, answerChallenge: challenge.answer, devices, closed }
}

export type Handshake = ReturnType<typeof createHandshake>
