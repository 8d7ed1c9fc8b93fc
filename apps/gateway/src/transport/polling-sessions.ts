import { randomBytes, randomUUID } from 'node:crypto'
import {
  ERROR_CODES,
  type ErrorCode,
  errorBody,
  type PollCloseRequest,
  type PollOpenResponse,
  type PollRecvRequest,
  type PollSendRequest,
} from '@parley/protocol'
import type { Logger } from 'pino'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import { BUS_GROUPS, NODE_REFRESH_MS } from '../cluster/cluster-node.js'
import type { GatewayConfig } from '../config.js'
import type { Connection } from '../peers/connection.js'
import type { Hub } from './hub.js'
import { PollAckError, PollSession } from './polling-session.js'

/** An HTTP answer, ready to send or to relay over the bus. */
export interface PollAnswer {
  status: number
  body: unknown
}

export type PollOperation =
  | { op: 'send'; request: PollSendRequest }
  | { op: 'recv'; request: PollRecvRequest }
  | { op: 'close'; request: PollCloseRequest }

export interface PollOpenRequest {
  remoteAddress: string | null
  userAgent: string | null
  origin: string | null
  upgradeToken: string | undefined
}

export interface PollingSessionsOptions {
  config: GatewayConfig
  hub: Hub
  bus: ClusterBus
  logger: Logger
  /** How long a relayed request waits for the other node to say it holds the session. */
  relayAcceptTimeoutMs?: number
  /** How often relays waiting on another node check that the node is still in the cluster. */
  nodeCheckMs?: number
}

/** Bus message kinds of the relay; other features share the node topic with their own kinds. */
type RelayMessage =
  | { kind: 'poll.request'; id: string; from: string; operation: PollOperation }
  | { kind: 'poll.accepted'; id: string }
  | { kind: 'poll.response'; id: string; answer: PollAnswer }

interface PendingRelay {
  /** The node holding the session. */
  node: string
  /** Whether that node said it holds the session (then the answer may take a whole long poll). */
  accepted: boolean
  resolve: (answer: PollAnswer) => void
  timer: NodeJS.Timeout
  /** How long to wait for the answer once the other node accepted. */
  answerTimeoutMs: number
}

const DEFAULT_RELAY_ACCEPT_TIMEOUT_MS = 2_000
/** Margin over the long-poll hang for a relayed answer to come back. */
const RELAY_ANSWER_MARGIN_MS = 10_000

export function pollError(code: ErrorCode, message: string): PollAnswer {
  return { status: ERROR_CODES[code].status, body: { error: errorBody(code, message) } }
}

/** The node part of a session id (`<nodeId>.<128 random bits>`). */
export function nodeOfSession(session: string): string | undefined {
  const dot = session.lastIndexOf('.')
  return dot <= 0 ? undefined : session.slice(0, dot)
}

/**
 * The poll sessions this node holds, and the relay that lets any node serve any session: a request for a
 * session of another node is published on that node's bus topic and answered the same way.
 */
export function createPollingSessions(options: PollingSessionsOptions) {
  const { config, hub, bus, logger } = options
  const sessions = new Map<string, { session: PollSession; connection: Connection }>()
  const heartbeatIntervalMs = Math.max(1, Math.round(config.heartbeatInterval * 1000))
  const longPollTimeoutMs = Math.round(config.polling.longPollTimeout * 1000)
  /** How long an ended session still answers a repeated `recv` with its close. */
  const lingerMs = Math.max(longPollTimeoutMs, 2 * heartbeatIntervalMs)
  const relayAcceptTimeoutMs = options.relayAcceptTimeoutMs ?? DEFAULT_RELAY_ACCEPT_TIMEOUT_MS
  const endedAt = new Map<string, number>()
  const pendingRelays = new Map<string, PendingRelay>()
  let unsubscribe: (() => void) | undefined
  let sweepTimer: NodeJS.Timeout | undefined
  let nodeCheckTimer: NodeJS.Timeout | undefined

  function open(request: PollOpenRequest): PollOpenResponse {
    const id = `${bus.nodeId}.${randomBytes(16).toString('base64url')}`
    const session = new PollSession({
      id,
      maxBatchSize: config.polling.maxBatchSize,
      longPollTimeoutMs,
      now: Date.now(),
      onEnded: (ended, code) => {
        const entry = sessions.get(ended.id)
        endedAt.set(ended.id, Date.now())
        if (entry !== undefined) hub.closed(entry.connection, code)
      },
    })
    const connection = hub.open({ socket: session, ...request })
    sessions.set(id, { session, connection })
    return { session: id, longPollTimeoutMs, maxBatchSize: config.polling.maxBatchSize }
  }

  /** Serves an operation on a session of this node. */
  async function handleLocal(operation: PollOperation): Promise<PollAnswer> {
    const entry = sessions.get(operation.request.session)
    if (entry === undefined) return pollError('not_found', 'no such poll session; open a new one')
    const { session, connection } = entry
    switch (operation.op) {
      case 'send': {
        if (!session.isOpen) return { status: 200, body: { accepted: 0 } }
        for (const frame of operation.request.frames) hub.receive(connection, frame)
        return { status: 200, body: { accepted: operation.request.frames.length } }
      }
      case 'recv': {
        try {
          const answer = await session.recv(operation.request.ack, operation.request.waitMs, Date.now())
          return { status: 200, body: answer }
        } catch (error) {
          if (error instanceof PollAckError) return pollError('bad_request', error.message)
          throw error
        }
      }
      case 'close': {
        session.closeByClient()
        sessions.delete(session.id)
        endedAt.delete(session.id)
        return { status: 200, body: { closed: true } }
      }
    }
  }

  /** Serves an operation wherever its session lives. */
  function handle(operation: PollOperation): Promise<PollAnswer> {
    const node = nodeOfSession(operation.request.session)
    if (node === undefined || node === bus.nodeId) return handleLocal(operation)
    return relay(node, operation)
  }

  function relay(node: string, operation: PollOperation): Promise<PollAnswer> {
    if (bus.state() === 'local') {
      return Promise.resolve(pollError('not_found', 'no such poll session; open a new one'))
    }
    const id = randomUUID()
    const answerTimeoutMs =
      operation.op === 'recv' ? longPollTimeoutMs + RELAY_ANSWER_MARGIN_MS : RELAY_ANSWER_MARGIN_MS
    return new Promise((resolve) => {
      const pending: PendingRelay = {
        node,
        accepted: false,
        resolve: (answer) => {
          clearTimeout(pending.timer)
          pendingRelays.delete(id)
          resolve(answer)
        },
        // No node took it: the node is gone, and its sessions with it.
        timer: setTimeout(
          () => pending.resolve(pollError('not_found', 'no such poll session; open a new one')),
          relayAcceptTimeoutMs,
        ),
        answerTimeoutMs,
      }
      pendingRelays.set(id, pending)
      publish(node, { kind: 'poll.request', id, from: bus.nodeId, operation })
    })
  }

  function publish(node: string, message: RelayMessage): void {
    bus.publish(BUS_TOPICS.node(node), JSON.stringify(message))
  }

  function onBusMessage(payload: string): void {
    let message: RelayMessage
    try {
      message = JSON.parse(payload) as RelayMessage
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null || typeof message.kind !== 'string') return
    switch (message.kind) {
      case 'poll.request': {
        const { id, from, operation } = message
        if (!sessions.has(operation?.request?.session)) {
          publish(from, { kind: 'poll.response', id, answer: pollError('not_found', 'no such poll session') })
          return
        }
        publish(from, { kind: 'poll.accepted', id })
        handleLocal(operation)
          .catch((error: unknown) => {
            logger.error({ err: error, op: operation.op }, 'relayed poll request failed')
            return pollError('internal', 'internal server error')
          })
          .then((answer) => publish(from, { kind: 'poll.response', id, answer }))
        return
      }
      case 'poll.accepted': {
        const pending = pendingRelays.get(message.id)
        if (pending === undefined) return
        pending.accepted = true
        clearTimeout(pending.timer)
        pending.timer = setTimeout(
          () =>
            pending.resolve(pollError('unavailable', 'the node holding this poll session did not answer')),
          pending.answerTimeoutMs,
        )
        return
      }
      case 'poll.response':
        pendingRelays.get(message.id)?.resolve(message.answer)
        return
      default:
        // Another feature's message on the node topic.
        return
    }
  }

  /**
   * A node that accepted a relayed request and then died (killed, not drained) never answers: without this
   * check the request would wait a whole long poll plus the margin. Once the node's registry entry has
   * expired (cluster/cluster-node.ts), its sessions are gone with it: `not_found`, and the client opens a
   * new session at once.
   */
  async function failRelaysToGoneNodes(): Promise<void> {
    const waiting = [...pendingRelays.values()].filter((pending) => pending.accepted)
    if (waiting.length === 0 || bus.state() !== 'ok') return
    let alive: Map<string, string>
    try {
      alive = await bus.entries(BUS_GROUPS.nodes)
    } catch {
      return
    }
    for (const pending of waiting) {
      if (!alive.has(pending.node)) {
        pending.resolve(
          pollError('not_found', 'the node holding this poll session left the cluster; open a new one'),
        )
      }
    }
  }

  /** Reaps sessions whose client stopped polling, and forgets ended ones once nobody can ask again. */
  function sweep(now: number): void {
    for (const [id, { session, connection }] of sessions) {
      const ended = endedAt.get(id)
      if (ended !== undefined) {
        if (now - ended > lingerMs) {
          sessions.delete(id)
          endedAt.delete(id)
        }
        continue
      }
      if (session.isPolling || now - session.lastPollAt <= 2 * heartbeatIntervalMs) continue
      if (session.isOpen) {
        connection.logger.info('reaping poll session that stopped polling')
        connection.close('heartbeat_timeout', 'no poll received in time')
      } else {
        // Closed, but nobody comes to read the close.
        session.terminate()
      }
    }
  }

  return {
    open,
    handle,
    start(): void {
      unsubscribe ??= bus.subscribe(BUS_TOPICS.node(bus.nodeId), onBusMessage)
      if (sweepTimer === undefined) {
        sweepTimer = setInterval(() => sweep(Date.now()), Math.max(5, heartbeatIntervalMs / 2))
        sweepTimer.unref()
      }
      if (nodeCheckTimer === undefined) {
        nodeCheckTimer = setInterval(
          () => void failRelaysToGoneNodes(),
          options.nodeCheckMs ?? NODE_REFRESH_MS,
        )
        nodeCheckTimer.unref()
      }
    },
    stop(): void {
      unsubscribe?.()
      unsubscribe = undefined
      clearInterval(sweepTimer)
      sweepTimer = undefined
      clearInterval(nodeCheckTimer)
      nodeCheckTimer = undefined
      for (const pending of pendingRelays.values()) {
        pending.resolve(pollError('shutting_down', 'the gateway is shutting down'))
      }
      for (const { session } of sessions.values()) session.release()
    },
    get size(): number {
      return sessions.size
    },
    sweep,
  }
}

export type PollingSessions = ReturnType<typeof createPollingSessions>
