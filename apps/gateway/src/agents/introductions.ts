import {
  type Caller,
  type ErrorCode,
  errorBody,
  type GrantPeer,
  type IntroduceFrame,
  type IntroduceResult,
  type IntroductionAnswerFrame,
  type Role,
  type ServerFrame,
} from '@parley/protocol'
import type { AuditRecord } from '@parley/stores'
import type { Logger } from 'pino'
import { newId, newTraceId } from '../ids.js'
import { sendError } from '../peers/peer.js'
import { traceContextOf, traceIdOf } from '../tracing/gateway-tracing.js'
import { accessKey, denialDetail } from './access.js'
import type {
  AccessParty,
  AgentAccess,
  AgentDirectory,
  AgentGrants,
  AgentRoute,
  GrantParty,
} from './types.js'

/** The connection an `introduce` or `introduction_answer` came on, as far as introductions need it. */
export interface IntroducingConnection {
  readonly id: string
  readonly principal: string
  readonly role: Role
  readonly clientId: string
  /** The `did:key` it authenticated with, if any. */
  readonly agentKeyId: string | undefined
  sendFrame(frame: ServerFrame): boolean
}

export interface IntroductionsOptions {
  directory: AgentDirectory
  access: AgentAccess
  grants: AgentGrants
  record: (entry: AuditRecord) => void
  /** How long the target has to answer, in milliseconds. */
  timeoutMs: number
  logger: Logger
  now?: () => number
}

interface Handshake {
  handshakeId: string
  caller: IntroducingConnection
  requestId: string
  from: GrantParty
  route: AgentRoute
  reason: string | undefined
  startedAt: number
  /** Set while the agent is asked. */
  timer?: NodeJS.Timeout
}

function peer(party: GrantParty): GrantPeer {
  return party.agentId === undefined
    ? { principal: party.principal, clientId: party.clientId }
    : { principal: party.principal, clientId: party.clientId, agentId: party.agentId }
}

/**
 * `introduce` → (`introduction` → `introduction_answer`) → grant + `connected`. The target instance is
 * resolved through the agent directory and checked as policy action `message`; a `require_introduction`
 * rule does not stop an introduction (it is how the parties get the grant it asks for). The instance's
 * `introductions` mode decides who answers: `accept` / `reject` the gateway at once, `ask` the agent,
 * within `timeoutMs`. Each handshake is two `handshake` audit rows (request and answer) sharing the
 * handshake id as correlation id, the answer with the latency.
 */
export function createIntroductions(options: IntroductionsOptions) {
  const { directory, access, grants, record, logger } = options
  const now = options.now ?? Date.now
  const pending = new Map<string, Handshake>()

  const stopWatchingGone = directory.onGone((route) => {
    for (const handshake of pending.values()) {
      if (handshake.route.instanceId !== route.instanceId) continue
      finish(handshake)
      answerRow(handshake, 'error', 'agent_unavailable')
      fail(
        handshake.caller,
        'agent_unavailable',
        `${route.agentId} went away before answering the introduction`,
        handshake.requestId,
      )
    }
  })

  function fail(
    connection: IntroducingConnection,
    code: ErrorCode,
    message: string,
    id: string | undefined,
    details?: Record<string, unknown>,
  ): void {
    const body = errorBody(code, message, undefined, details)
    sendError(connection, body, id)
  }

  function callerParty(connection: IntroducingConnection): { party: GrantParty; access: AccessParty } {
    const route = directory.byConnection(connection.id)
    const party: GrantParty = { principal: connection.principal, clientId: connection.clientId }
    if (route !== undefined) party.agentId = route.agentId
    const accessParty: AccessParty = { ...party, role: connection.role }
    if (route !== undefined) accessParty.capabilities = route.capabilities
    return { party, access: accessParty }
  }

  function routeParty(route: AgentRoute): GrantParty {
    return { principal: route.principal, clientId: route.clientId, agentId: route.agentId }
  }

  function finish(handshake: Handshake): void {
    clearTimeout(handshake.timer)
    pending.delete(handshake.handshakeId)
  }

  /** The answer's audit row: the target acted, towards the caller. */
  function answerRow(handshake: Handshake, outcome: AuditRecord['outcome'], detail: string): void {
    record({
      kind: 'handshake',
      outcome,
      principal: handshake.route.principal,
      clientId: handshake.route.clientId,
      connectionId: null,
      target: accessKey(handshake.from) ?? handshake.from.clientId,
      detail,
      correlationId: handshake.handshakeId,
      latencyMs: now() - handshake.startedAt,
    })
  }

  async function accepted(handshake: Handshake, by: 'agent' | 'gateway'): Promise<void> {
    const to = routeParty(handshake.route)
    const grant = await grants.create(handshake.from, to, handshake.reason)
    const timestamp = now()
    answerRow(handshake, 'ok', `accepted by ${by} grant=${grant.id}`)
    const result: IntroduceResult = { grantId: grant.id, peer: peer(to), timestamp }
    handshake.caller.sendFrame({ type: 'reply', id: handshake.requestId, result })
    handshake.caller.sendFrame({ type: 'connected', grantId: grant.id, peer: peer(to), timestamp })
    directory.deliver(handshake.route.instanceId, {
      type: 'connected',
      grantId: grant.id,
      peer: peer(handshake.from),
      timestamp,
    })
  }

  function rejected(handshake: Handshake, by: 'agent' | 'gateway', reason: string | undefined): void {
    answerRow(handshake, 'denied', `rejected by ${by}`)
    const why = reason === undefined ? '' : `: ${reason}`
    fail(
      handshake.caller,
      'introduction_rejected',
      `${handshake.route.agentId} rejected the introduction${why}`,
      handshake.requestId,
    )
  }

  function settle(handshake: Handshake, accept: boolean, by: 'agent' | 'gateway', reason?: string): void {
    if (!accept) {
      rejected(handshake, by, reason)
      return
    }
    accepted(handshake, by).catch((error: unknown) => {
      logger.error({ err: error, handshakeId: handshake.handshakeId }, 'recording a grant failed')
      answerRow(handshake, 'error', 'grant not recorded')
      fail(handshake.caller, 'unavailable', 'the grant could not be recorded; try again', handshake.requestId)
    })
  }

  return {
    introduce(connection: IntroducingConnection, frame: IntroduceFrame): void {
      const caller = callerParty(connection)
      const targetName =
        typeof frame.target === 'string' ? frame.target : `capability ${frame.target.capability}`
      const handshakeId = newId('hs')
      const requestRow = (outcome: AuditRecord['outcome'], target: string, detail: string) =>
        record({
          kind: 'handshake',
          outcome,
          principal: connection.principal,
          clientId: connection.clientId,
          connectionId: connection.id,
          target,
          detail,
          correlationId: handshakeId,
          traceId: frame.traceId ?? null,
        })
      const [route] = directory.resolve(frame.target)
      if (route === undefined) {
        requestRow(
          'error',
          typeof frame.target === 'string' ? frame.target : frame.target.capability,
          'no_route',
        )
        fail(connection, 'no_route', `no agent is online for ${targetName}`, frame.id)
        return
      }
      const target: AccessParty = { ...routeParty(route), role: route.role }
      target.capabilities = typeof frame.target === 'string' ? route.capabilities : [frame.target.capability]
      const decision = access.check({ action: 'message', caller: caller.access, target })
      if (!decision.allowed && decision.code === 'policy_denied') {
        requestRow('denied', route.agentId, denialDetail(decision))
        fail(
          connection,
          decision.code,
          decision.message,
          frame.id,
          decision.rule === undefined ? undefined : { rule: decision.rule },
        )
        return
      }
      const mode = route.introductions ?? 'ask'
      requestRow('ok', route.agentId, `introduce (${mode})`)
      const handshake: Handshake = {
        handshakeId,
        caller: connection,
        requestId: frame.id,
        from: caller.party,
        route,
        reason: frame.reason,
        startedAt: now(),
      }
      if (mode !== 'ask') {
        settle(handshake, mode === 'accept', 'gateway')
        return
      }
      const timer = setTimeout(() => {
        if (!pending.has(handshakeId)) return
        finish(handshake)
        answerRow(handshake, 'error', 'timeout')
        fail(connection, 'timeout', `${route.agentId} did not answer the introduction in time`, frame.id)
      }, options.timeoutMs)
      timer.unref()
      handshake.timer = timer
      pending.set(handshakeId, handshake)
      const from: Caller = { ...caller.party, role: connection.role }
      if (connection.agentKeyId !== undefined) from.identity = connection.agentKeyId
      const introduction: ServerFrame = {
        type: 'introduction',
        handshakeId,
        from,
        traceId: frame.traceId ?? traceIdOf(frame) ?? newTraceId(),
        ...(frame.reason === undefined ? {} : { reason: frame.reason }),
        // Passed on as the introducer sent it: an introduction has no gateway span of its own.
        ...traceContextOf(undefined, frame),
      }
      if (!directory.deliver(route.instanceId, introduction)) {
        finish(handshake)
        answerRow(handshake, 'error', 'no_route')
        fail(connection, 'no_route', `${route.agentId} is no longer online`, frame.id)
      }
    },

    answer(connection: IntroducingConnection, frame: IntroductionAnswerFrame): void {
      const handshake = pending.get(frame.handshakeId)
      const answering = directory.byConnection(connection.id)
      // The same answer for an unknown handshake and for someone else's: nothing to learn by guessing.
      if (handshake === undefined || answering?.instanceId !== handshake.route.instanceId) {
        fail(
          connection,
          'not_found',
          `no introduction ${frame.handshakeId} is waiting for this connection's answer`,
          undefined,
        )
        return
      }
      finish(handshake)
      settle(handshake, frame.accept, 'agent', frame.reason)
    },

    /** Handshakes waiting for an answer (for tests and metrics). */
    pendingCount: () => pending.size,

    stop(): void {
      stopWatchingGone()
      for (const handshake of pending.values()) clearTimeout(handshake.timer)
      pending.clear()
    },
  }
}

export type Introductions = ReturnType<typeof createIntroductions>
