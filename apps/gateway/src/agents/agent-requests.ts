import type { Span } from '@opentelemetry/api'
import {
  type Caller,
  type DirectTarget,
  type ErrorBody,
  errorBody,
  type RequestFrame,
  type RespondFrame,
  type TraceContext,
} from '@parley/protocol'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { ExchangeCapture } from '../capture/exchange-capture.js'
import type { GatewayConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import { newId, newTraceId } from '../ids.js'
import { spanRouted, startInvokeAgentSpan } from '../tracing/agent-spans.js'
import {
  endSpan,
  type GatewayTracing,
  noTracing,
  traceContextOf,
  traceIdOf,
} from '../tracing/gateway-tracing.js'
import type { AgentActivity } from './agent-activity.js'
import { recordAgentAudit } from './agent-audit.js'
import type { RegisteredAgentDirectory } from './agent-directory.js'
import {
  type AgentCaller,
  auditDenial,
  callerOf,
  chooseAllowed,
  denialError,
  noRouteError,
  sendError,
  targetName,
} from './agent-routing.js'
import type { AgentAccess, AgentRoute } from './types.js'

/** How long a caller refused because the audit log is behind waits before retrying (about one batch). */
const AUDIT_BEHIND_RETRY_MS = 250

interface PendingRequest {
  correlationId: string
  caller: AgentCaller
  requestId: string
  target: DirectTarget
  data: RequestFrame['data']
  from: Caller
  idempotent: boolean
  traceId: string
  receivedAt: number
  deadline: number
  timeoutMs: number
  timer: NodeJS.Timeout
  attempts: number
  tried: Set<string>
  route: AgentRoute | undefined
  /** Agent hops before this request (see `hopsOf`). */
  hops: number
  /** The allow rule that let the first attempt through, if one did (payload capture may be on for it). */
  rule?: string | undefined
  /** The gateway's `invoke_agent` span (tracing on only). */
  span: Span | undefined
  /** The trace context `request_incoming` carries: the span's, else the caller's. */
  trace: TraceContext
}

export interface AgentRequestsOptions {
  config: GatewayConfig
  directory: RegisteredAgentDirectory
  access: () => AgentAccess
  audit: ConnectionAudit
  /** Told of every finished request (the metrics). */
  activity?: AgentActivity
  /** Payload capture (conversation replay); off when absent. */
  capture?: ExchangeCapture
  tracing?: GatewayTracing
}

/**
 * `request` → `request_incoming` → `respond` → `reply`. Pending requests live on the caller's node: the
 * timeout, the failover of idempotent requests when their instance goes away, and the answer all happen
 * here, whichever node the instance is on.
 */
export function createAgentRequests(options: AgentRequestsOptions) {
  const { config, directory, audit, activity, capture } = options
  const tracing = options.tracing ?? noTracing
  const pending = new Map<string, PendingRequest>()
  const byCaller = new Map<string, Set<string>>()
  const byInstance = new Map<string, Set<string>>()

  function index(map: Map<string, Set<string>>, key: string, id: string): void {
    const set = map.get(key)
    if (set === undefined) map.set(key, new Set([id]))
    else set.add(id)
  }

  function unindex(map: Map<string, Set<string>>, key: string, id: string): void {
    const set = map.get(key)
    set?.delete(id)
    if (set?.size === 0) map.delete(key)
  }

  /**
   * The hops before a request: what the caller says (`request.hops`, the SDK sets it from the request its
   * handler answers), or more when the caller is an agent instance answering a request of the same trace here.
   */
  function hopsOf(connection: AgentCaller, frame: RequestFrame, traceId: string | undefined): number {
    let hops = frame.hops ?? 0
    if (traceId === undefined) return hops
    const instanceId = directory.byConnection(connection.id)?.instanceId
    const answering = instanceId === undefined ? undefined : byInstance.get(instanceId)
    for (const correlationId of answering ?? []) {
      const incoming = pending.get(correlationId)
      if (incoming?.traceId === traceId) hops = Math.max(hops, incoming.hops + 1)
    }
    return hops
  }

  /** Tells the observers (metrics) how the request ended. */
  function observe(request: PendingRequest, outcome: string, agent: string | undefined): void {
    if (activity === undefined || !activity.observed) return
    activity.requestFinished({
      caller: directory.byConnection(request.caller.id)?.agentId ?? '',
      agent: agent ?? '',
      capability: typeof request.target === 'string' ? '' : request.target.capability,
      outcome,
      latencyMs: Date.now() - request.receivedAt,
    })
  }

  /** A request's deadline passed without an answer. One function for every request's timer: no closure each. */
  function expire(correlationId: string): void {
    const request = pending.get(correlationId)
    if (request === undefined) return
    finish(request, {
      error: errorBody(
        'timeout',
        `no answer from ${targetName(request.target)} within ${request.timeoutMs} ms`,
      ),
    })
  }

  /** Takes the request off its current instance (it answered, went away, or the request ended). */
  function detach(request: PendingRequest): AgentRoute | undefined {
    const route = request.route
    if (route === undefined) return undefined
    request.route = undefined
    directory.release(route.instanceId)
    unindex(byInstance, route.instanceId, request.correlationId)
    return route
  }

  /** Ends the request: the caller gets `answer`, the audit a `reply` row. */
  function finish(
    request: PendingRequest,
    answer: { data: unknown } | { error: ErrorBody },
    answeredBy?: AgentRoute,
  ): void {
    clearTimeout(request.timer)
    pending.delete(request.correlationId)
    unindex(byCaller, request.caller.id, request.correlationId)
    const route = detach(request)
    // The answering node already forgot a request it answered; any other end is news to it.
    if (route !== undefined && answeredBy === undefined) directory.forget(route, request.correlationId)
    const latencyMs = Date.now() - request.receivedAt
    const instance = answeredBy ?? route
    const outcome = 'error' in answer ? answer.error.code : 'ok'
    observe(request, outcome, instance?.agentId)
    endSpan(request.span, outcome)
    if ('data' in answer && instance !== undefined) {
      request.caller.sendFrame({
        type: 'reply',
        id: request.requestId,
        result: {
          correlationId: request.correlationId,
          data: answer.data,
          agentId: instance.agentId,
          instanceId: instance.instanceId,
          latencyMs,
          attempts: request.attempts,
          traceId: request.traceId,
        },
      })
    } else if ('error' in answer) {
      sendError(request.caller, answer.error, request.requestId)
    }
    // An answered request's reply row reads from the agent to the caller, so a conversation shows both ways.
    const replier =
      instance === undefined
        ? undefined
        : { id: '', principal: instance.principal, clientId: instance.clientId }
    const callerKey = directory.byConnection(request.caller.id)?.agentId ?? request.caller.clientId
    if (capture !== undefined) {
      const step = 'error' in answer ? 'error' : 'reply'
      capture.step(
        request.correlationId,
        step,
        'error' in answer ? answer.error : answer.data,
        instance?.instanceId,
      )
      capture.end(request.correlationId)
    }
    recordAgentAudit(audit, {
      kind: 'reply',
      outcome: 'error' in answer ? 'error' : 'ok',
      subject: replier ?? request.caller,
      target: replier === undefined ? targetName(request.target) : callerKey,
      correlationId: request.correlationId,
      latencyMs,
      traceId: request.traceId,
      ...('error' in answer ? { detail: answer.error.code } : {}),
    })
  }

  /**
   * Hands the request to the next instance (least in flight, not tried yet). True when one took it;
   * otherwise the request was finished with the reason.
   */
  function dispatch(request: PendingRequest): boolean {
    for (;;) {
      const choice = chooseAllowed(
        directory,
        options.access(),
        'request',
        request.caller,
        request.target,
        request.tried,
      )
      if (choice.kind === 'denied' && request.attempts === 0) {
        clearTimeout(request.timer)
        pending.delete(request.correlationId)
        unindex(byCaller, request.caller.id, request.correlationId)
        auditDenial(
          audit,
          'request',
          request.caller,
          targetName(request.target),
          choice.decision,
          request.traceId,
        )
        observe(request, choice.decision.code, undefined)
        endSpan(request.span, choice.decision.code)
        sendError(request.caller, denialError(choice.decision), request.requestId)
        return false
      }
      if (choice.kind !== 'route') {
        finish(request, {
          error: noRouteError(
            directory,
            request.attempts === 0
              ? `no active agent for ${targetName(request.target)}`
              : `no other active agent for ${targetName(request.target)} after ${request.attempts} attempts`,
          ),
        })
        return false
      }
      const { route } = choice
      if (request.attempts === 0) request.rule = choice.rule
      request.tried.add(route.instanceId)
      request.attempts += 1
      request.route = route
      spanRouted(request.span, route)
      directory.acquire(route.instanceId)
      index(byInstance, route.instanceId, request.correlationId)
      const delivered = directory.deliver(route.instanceId, {
        type: 'request_incoming',
        correlationId: request.correlationId,
        from: request.from,
        data: request.data,
        deadline: request.deadline,
        attempt: request.attempts,
        idempotent: request.idempotent,
        ...(typeof request.target === 'string' ? {} : { capability: request.target.capability }),
        traceId: request.traceId,
        hops: request.hops,
        ...request.trace,
      })
      if (delivered) return true
      detach(request)
    }
  }

  /** The request's instance cannot answer it: an idempotent request fails over, another fails. */
  function handBack(request: PendingRequest, route: AgentRoute, reason: string): void {
    detach(request)
    if (request.idempotent && Date.now() < request.deadline) {
      dispatch(request)
      return
    }
    finish(request, {
      error: errorBody(
        'agent_unavailable',
        `${route.agentId} could not answer (${reason}); the request was not idempotent`,
      ),
    })
  }

  function start(request: PendingRequest, size: number): void {
    if (!dispatch(request)) return
    if (capture?.enabled === true && request.route !== undefined) {
      const callerAgentId = directory.byConnection(request.caller.id)?.agentId
      capture.begin({
        correlationId: request.correlationId,
        caller: callerAgentId ?? request.caller.clientId,
        callerAgentId,
        agentId: request.route.agentId,
        instanceId: request.route.instanceId,
        traceId: request.traceId,
        startedAt: request.receivedAt,
        rule: request.rule,
        data: request.data,
      })
    }
    recordAgentAudit(audit, {
      kind: 'request',
      outcome: 'ok',
      subject: request.caller,
      target: request.route?.agentId ?? targetName(request.target),
      size,
      correlationId: request.correlationId,
      traceId: request.traceId,
    })
  }

  return {
    /** A caller's `request`: routed now, answered later by `respond`, a timeout or a failure. */
    request(connection: AgentCaller, frame: RequestFrame, size: number): void {
      const open = byCaller.get(connection.id)?.size ?? 0
      if (open >= config.agents.maxInFlightPerConnection) {
        throw new GatewayError(
          'rate_limited',
          `${open} requests are already waiting for answers on this connection (agents.maxInFlightPerConnection)`,
          1_000,
        )
      }
      if (audit.behind()) {
        // Its two rows would be dropped at the end of a full buffer: the caller retries once the writer caught up.
        throw new GatewayError(
          'unavailable',
          'the audit log is behind the request rate (its database is slower than the traffic); retry shortly',
          AUDIT_BEHIND_RETRY_MS,
        )
      }
      const claimedTraceId = frame.traceId ?? traceIdOf(frame)
      const hops = hopsOf(connection, frame, claimedTraceId)
      if (hops >= config.agents.maxHops) {
        throw new GatewayError(
          'loop_detected',
          `this request would be hop ${hops + 1} of a chain of agent requests; agents.maxHops is ${config.agents.maxHops}`,
        )
      }
      const receivedAt = Date.now()
      const maxMs = config.agents.maxRequestTimeout * 1000
      const timeoutMs = Math.min(frame.timeoutMs ?? config.agents.requestTimeout * 1000, maxMs)
      const correlationId = newId('req')
      const span = startInvokeAgentSpan(tracing, frame, {
        target: frame.target,
        correlationId,
        hops,
        operation: 'request',
      })
      const request: PendingRequest = {
        correlationId,
        caller: connection,
        requestId: frame.id,
        target: frame.target,
        data: frame.data,
        from: callerOf(directory, connection),
        idempotent: frame.idempotent ?? false,
        traceId: claimedTraceId ?? span?.spanContext().traceId ?? newTraceId(),
        receivedAt,
        deadline: receivedAt + timeoutMs,
        timeoutMs,
        timer: setTimeout(expire, timeoutMs, correlationId),
        attempts: 0,
        tried: new Set(),
        route: undefined,
        hops,
        span,
        trace: traceContextOf(span, frame),
      }
      pending.set(correlationId, request)
      index(byCaller, connection.id, correlationId)
      start(request, size)
    },

    /** An instance's `respond`; false when nothing here waits for it (late, unknown, or not its request). */
    respond(instanceId: string, frame: RespondFrame): boolean {
      const request = pending.get(frame.correlationId)
      if (request === undefined || request.route?.instanceId !== instanceId) return false
      const route = request.route
      // The gateway's deadline decides, not the order in which its timer and the answer reach the event loop:
      // an answer at or after the deadline is dropped and the caller gets the timeout.
      if (Date.now() >= request.deadline) {
        finish(request, {
          error: errorBody('timeout', `no answer from ${route.agentId} before the deadline`),
        })
        return true
      }
      if (frame.error?.code === 'agent_unavailable') {
        // The instance hands the request back (an in-process adapter whose upstream is unreachable):
        // handled as if the instance had gone, for this request only.
        handBack(request, route, frame.error.message)
        return true
      }
      if (frame.error !== undefined) {
        finish(
          request,
          {
            error: errorBody('agent_error', `${route.agentId} failed: ${frame.error.message}`, undefined, {
              code: frame.error.code,
              message: frame.error.message,
            }),
          },
          route,
        )
      } else finish(request, { data: frame.data }, route)
      return true
    },

    /** The instance went away: its idempotent requests fail over, the others fail with `agent_unavailable`. */
    instanceGone(route: AgentRoute): void {
      const ids = byInstance.get(route.instanceId)
      if (ids === undefined) return
      for (const correlationId of [...ids]) {
        const request = pending.get(correlationId)
        if (request === undefined) continue
        handBack(request, route, 'it went away before answering')
      }
    },

    /**
     * The caller gave up on one of its requests (an A2A `CancelTask`): the instance answering it gets
     * `request_cancel` (its handler's signal fires), the request ends without an answer to the caller.
     * False when the caller has no such request waiting.
     */
    cancel(connection: AgentCaller, requestId: string, reason: string): boolean {
      const request = [...(byCaller.get(connection.id) ?? [])]
        .map((correlationId) => pending.get(correlationId))
        .find((candidate) => candidate?.requestId === requestId)
      if (request === undefined) return false
      clearTimeout(request.timer)
      pending.delete(request.correlationId)
      unindex(byCaller, connection.id, request.correlationId)
      const route = detach(request)
      if (route !== undefined) {
        directory.deliver(route.instanceId, {
          type: 'request_cancel',
          correlationId: request.correlationId,
          reason,
        })
        directory.forget(route, request.correlationId)
      }
      observe(request, 'canceled', route?.agentId)
      capture?.step(request.correlationId, 'error', { code: 'canceled', message: reason })
      capture?.end(request.correlationId)
      endSpan(request.span, 'canceled')
      recordAgentAudit(audit, {
        kind: 'reply',
        outcome: 'error',
        subject: connection,
        target: route?.agentId ?? targetName(request.target),
        correlationId: request.correlationId,
        latencyMs: Date.now() - request.receivedAt,
        traceId: request.traceId,
        detail: 'canceled',
      })
      return true
    },

    /** The caller left: its requests are dropped (the instances' late answers will be ignored). */
    connectionClosed(connection: AgentCaller): void {
      const ids = byCaller.get(connection.id)
      if (ids === undefined) return
      byCaller.delete(connection.id)
      for (const correlationId of ids) {
        const request = pending.get(correlationId)
        if (request === undefined) continue
        clearTimeout(request.timer)
        pending.delete(correlationId)
        capture?.end(correlationId)
        endSpan(request.span, 'caller_gone')
        const route = detach(request)
        if (route !== undefined) directory.forget(route, correlationId)
      }
    },

    stats() {
      return { pendingRequests: pending.size }
    },
  }
}

export type AgentRequests = ReturnType<typeof createAgentRequests>
