import type { ResumedSubscription, StreamPosition } from '@parley/protocol'
import type { SessionBindingStore } from '@parley/stores'
import type { Logger } from 'pino'
import { scopeAllows } from '../auth/scopes.js'
import type { ChannelPosition, ChannelRegistry } from '../channels/channel-registry.js'
import type { GatewayConfig } from '../config.js'
import type { Connection } from '../peers/connection.js'

/** A session whose connection ended, kept for `reconnectTimeout` so the client can resume it. */
export interface DetachedSession {
  readonly sessionId: string
  readonly principal: string
  readonly clientId: string
  readonly clientIdChosen: boolean
  /** Its live channels and the position each had reached (undefined: unknown, it is re-joined unrecovered). */
  readonly channels: Map<string, ChannelPosition | undefined>
  readonly closedAt: number
  /** Last frame other than ping/pong from the client. */
  readonly lastActivityAt: number
  /** Frames addressed to it while away that nothing else keeps (broadcasts, presence events). */
  buffer: Buffer[]
  /** More than `session.maxMessages` frames arrived while away: it cannot be resumed without a gap. */
  overflowed: boolean
}

/** Who holds a session a `hello.resume` names, while its connection is still live. */
export type SessionHolder =
  | { kind: 'none' }
  | { kind: 'forbidden' }
  /** Its principal's connection holds it: the new one takes it over and the old one is closed. */
  | { kind: 'take_over'; connection: Connection }

export type ResumeClaim =
  | { kind: 'resume'; session: DetachedSession }
  | { kind: 'fresh'; reason: string }
  | { kind: 'forbidden' }

export interface RejoinResult {
  offset: number
  epoch: string
  recovered?: boolean
  replayed?: number
}

export interface SessionResumeOptions {
  config: Pick<GatewayConfig, 'reconnectTimeout' | 'session'>
  channels: ChannelRegistry<Connection>
  bindings: () => SessionBindingStore | undefined
  logger: Logger
  now?: () => number
}

/**
 * Session resume: what a session had (channels and positions) when its connection ended, and the frames
 * sent to it while away that no store keeps for it. Channel publications come back from the history by
 * offset and direct messages from the delivery store, so only broadcasts and presence events are buffered.
 * Memory stays bounded: sessions are dropped `reconnectTimeout` after they ended, buffers stop at
 * `session.maxMessages` (the session is then no longer resumable and its buffer is freed).
 */
export function createSessionResume(options: SessionResumeOptions) {
  const { config, channels, logger } = options
  const now = options.now ?? Date.now
  const reconnectMs = Math.round(config.reconnectTimeout * 1000)
  const sessionTimeoutMs = Math.round(config.session.timeout * 1000)
  const maxMessages = config.session.maxMessages
  const detached = new Map<string, DetachedSession>()
  const byChannel = new Map<string, Set<DetachedSession>>()
  const lastActivity = new WeakMap<Connection, number>()
  const captured = new WeakMap<Connection, Map<string, ChannelPosition | undefined>>()
  const unresumable = new WeakSet<Connection>()
  /** Sessions whose connection is live, so a resume can take one over from a connection not yet seen dead. */
  const attached = new Map<string, Connection>()
  /** Connections whose session was already parked: a later close of the same connection parks nothing. */
  const parked = new WeakSet<Connection>()
  let timer: NodeJS.Timeout | undefined

  function noteActivity(connection: Connection, at: number = now()): void {
    lastActivity.set(connection, at)
  }

  /** Records the positions of its live channels before they are dropped (close, reap). */
  function capture(connection: Connection): void {
    if (connection.sessionId === '' || captured.has(connection)) return
    const positions = new Map<string, ChannelPosition | undefined>()
    for (const channel of connection.subscriptions) positions.set(channel, channels.positionOf(channel))
    captured.set(connection, positions)
  }

  /** Frames were dropped on the way to it (slow consumer): its positions are no longer what it saw. */
  function forget(connection: Connection): void {
    unresumable.add(connection)
  }

  /** A connection was welcomed into its session (fresh or resumed). */
  function attach(connection: Connection): void {
    if (connection.sessionId !== '') attached.set(connection.sessionId, connection)
  }

  /**
   * Who holds the session a `hello.resume` names. A live connection of the same principal (and client id)
   * is taken over, as MQTT brokers do: on mobile networks and behind NAT the old socket is usually dead
   * without the gateway having noticed yet. Another principal may not touch it.
   */
  function holderOf(sessionId: string, principal: string, clientId: string | undefined): SessionHolder {
    const connection = attached.get(sessionId)
    if (connection === undefined || connection.state === 'closed') return { kind: 'none' }
    if (connection.principal !== principal) return { kind: 'forbidden' }
    if (clientId !== undefined && clientId !== connection.clientId) return { kind: 'none' }
    return { kind: 'take_over', connection }
  }

  /**
   * Its connection ended, however it ended (a close, a reset, reaped by the heartbeat, taken over): the
   * session waits `reconnectTimeout` for the client to come back.
   */
  function detach(connection: Connection): void {
    if (attached.get(connection.sessionId) === connection) attached.delete(connection.sessionId)
    if (connection.sessionId === '' || unresumable.has(connection) || parked.has(connection)) return
    parked.add(connection)
    capture(connection)
    const session: DetachedSession = {
      sessionId: connection.sessionId,
      principal: connection.principal,
      clientId: connection.clientId,
      clientIdChosen: connection.clientIdChosen,
      channels: captured.get(connection) ?? new Map(),
      closedAt: now(),
      lastActivityAt: lastActivity.get(connection) ?? connection.openedAt,
      buffer: [],
      overflowed: false,
    }
    drop(session.sessionId)
    detached.set(session.sessionId, session)
    for (const channel of session.channels.keys()) {
      let sessions = byChannel.get(channel)
      if (sessions === undefined) {
        sessions = new Set()
        byChannel.set(channel, sessions)
      }
      sessions.add(session)
    }
    ensureTimer()
  }

  function drop(sessionId: string): DetachedSession | undefined {
    const session = detached.get(sessionId)
    if (session === undefined) return undefined
    detached.delete(sessionId)
    for (const channel of session.channels.keys()) {
      const sessions = byChannel.get(channel)
      sessions?.delete(session)
      if (sessions?.size === 0) byChannel.delete(channel)
    }
    return session
  }

  function buffer(session: DetachedSession, frame: Buffer): void {
    if (session.overflowed) return
    if (session.buffer.length >= maxMessages) {
      session.overflowed = true
      session.buffer = []
      return
    }
    session.buffer.push(frame)
  }

  /** A frame fanned out on `channel`: the detached sessions that were subscribed keep it. */
  function bufferForChannel(channel: string, frame: Buffer): void {
    const sessions = byChannel.get(channel)
    if (sessions === undefined) return
    for (const session of sessions) buffer(session, frame)
  }

  /** A frame for everyone (a broadcast): every detached session keeps it. */
  function bufferForAll(frame: Buffer): void {
    for (const session of detached.values()) buffer(session, frame)
  }

  /**
   * Decides a `hello.resume`: forbidden when the session belongs to another principal (per the session
   * binding store, or this node's record), resumable when it ended here within `reconnectTimeout`, was
   * active within `session.timeout`, did not overflow and keeps its client id; otherwise a fresh session.
   */
  async function claim(
    sessionId: string,
    principal: string,
    clientId: string | undefined,
  ): Promise<ResumeClaim> {
    const binding = await options.bindings()?.lookup(sessionId)
    const local = detached.get(sessionId)
    const owner = binding?.principal ?? local?.principal
    if (owner !== undefined && owner !== principal) return { kind: 'forbidden' }
    if (local === undefined || local.principal !== principal) {
      return { kind: 'fresh', reason: 'unknown or expired session' }
    }
    const at = now()
    if (at - local.closedAt >= reconnectMs) {
      drop(sessionId)
      return { kind: 'fresh', reason: 'reconnectTimeout passed' }
    }
    if (at - local.lastActivityAt >= sessionTimeoutMs) {
      drop(sessionId)
      return { kind: 'fresh', reason: 'session timed out' }
    }
    if (local.overflowed) {
      drop(sessionId)
      return { kind: 'fresh', reason: 'more than session.maxMessages frames buffered' }
    }
    if (clientId !== undefined && clientId !== local.clientId) {
      return { kind: 'fresh', reason: 'another client id' }
    }
    drop(sessionId)
    return { kind: 'resume', session: local }
  }

  /**
   * Gives a resumed session back to its new connection: the buffered frames, then each channel re-joined
   * from its position (missed publications replayed), then `session_resumed`.
   */
  async function restore(
    connection: Connection,
    session: DetachedSession,
    rejoin: (channel: string, since: StreamPosition | undefined) => Promise<RejoinResult | undefined>,
  ): Promise<void> {
    for (const frame of session.buffer) connection.send(frame)
    const subscriptions: ResumedSubscription[] = []
    await Promise.all(
      [...session.channels].map(async ([channel, position]) => {
        // Scopes may have shrunk since (a token re-issued): the client resubscribes what is not restored.
        if (!scopeAllows(connection.scopes, 'subscribe', channel)) return
        try {
          const result = await rejoin(channel, position)
          if (result === undefined) return
          subscriptions.push({
            channel,
            offset: result.offset,
            epoch: result.epoch,
            recovered: position !== undefined && result.recovered === true,
            replayed: result.replayed ?? 0,
          })
        } catch (error) {
          connection.logger.warn(
            { err: error, channel },
            'a subscription of the resumed session was not restored',
          )
        }
      }),
    )
    if (!connection.isOpen) return
    subscriptions.sort((a, b) => a.channel.localeCompare(b.channel))
    connection.sendFrame({
      type: 'session_resumed',
      sessionId: session.sessionId,
      subscriptions,
      buffered: session.buffer.length,
    })
  }

  function sweep(): void {
    const at = now()
    for (const session of [...detached.values()]) {
      if (at - session.closedAt >= reconnectMs) drop(session.sessionId)
    }
    if (detached.size === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }

  function ensureTimer(): void {
    if (timer !== undefined) return
    timer = setInterval(sweep, Math.min(5_000, Math.max(50, Math.round(reconnectMs / 4))))
    timer.unref()
  }

  function stop(): void {
    clearInterval(timer)
    timer = undefined
    detached.clear()
    byChannel.clear()
    attached.clear()
  }

  logger.debug({ reconnectMs, sessionTimeoutMs, maxMessages }, 'session resume ready')

  return {
    noteActivity,
    capture,
    forget,
    attach,
    holderOf,
    detach,
    bufferForChannel,
    bufferForAll,
    claim,
    restore,
    stop,
    /** Detached sessions held now (tests and metrics). */
    get detachedCount() {
      return detached.size
    },
  }
}

export type SessionResume = ReturnType<typeof createSessionResume>
