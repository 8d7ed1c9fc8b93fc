import type { AgentSendFrame, AgentTarget, TraceContext } from '@parley/protocol'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { DeliveryEngine } from '../delivery/delivery-engine.js'
import { newTraceId } from '../ids.js'
import type { Connection } from '../peers/connection.js'
import { startMessagingSpan } from '../tracing/agent-spans.js'
import {
  endSpan,
  type GatewayTracing,
  noTracing,
  traceContextOf,
  traceIdOf,
} from '../tracing/gateway-tracing.js'
import { recordAgentAudit } from './agent-audit.js'
import type { RegisteredAgentDirectory } from './agent-directory.js'
import {
  auditDenial,
  callerParty,
  type Denial,
  denialError,
  noRouteError,
  routeParty,
  sendError,
} from './agent-routing.js'
import type { AgentAccess, AgentRoute } from './types.js'

export interface AgentSendsOptions {
  directory: RegisteredAgentDirectory
  access: () => AgentAccess
  audit: ConnectionAudit
  deliveries: Pick<DeliveryEngine, 'sendToAgents'>
  tracing?: GatewayTracing
}

function describe(target: AgentTarget): string {
  if (typeof target === 'string') return target
  if ('capability' in target) return `capability:${target.capability}`
  return target.broadcast === true ? 'broadcast' : `broadcast:capability:${target.broadcast.capability}`
}

/**
 * `agent_send`: picks the recipient agents (one for an agent id or a capability, every active agent for a
 * broadcast), checks each against access (`message`), and queues one durable direct message per allowed
 * agent through the delivery engine, addressed to the client id of its least loaded instance.
 */
export function createAgentSends(options: AgentSendsOptions) {
  const { directory, audit } = options
  const tracing = options.tracing ?? noTracing

  /** Candidate instances in preference order, at most one per agent id for broadcasts. */
  function candidates(connection: Connection, target: AgentTarget): AgentRoute[] {
    if (typeof target === 'string' || 'capability' in target) return directory.resolve(target)
    const own = directory.byConnection(connection.id)
    const routes = directory.all(target.broadcast === true ? undefined : target.broadcast.capability)
    const perAgent = new Map<string, AgentRoute>()
    for (const route of routes) {
      // A broadcast goes to the other agents, not back to the sender.
      if (own !== undefined && route.agentId === own.agentId) continue
      if (!perAgent.has(route.agentId)) perAgent.set(route.agentId, route)
    }
    return [...perAgent.values()]
  }

  return {
    async send(connection: Connection, frame: AgentSendFrame, size: number): Promise<void> {
      const target = describe(frame.target)
      const span = startMessagingSpan(tracing, frame, { operation: 'send', destination: target })
      const trace = traceContextOf(span, frame)
      const traceId = traceIdOf(trace) ?? frame.traceId ?? newTraceId()
      try {
        endSpan(span, await deliver(connection, frame, size, { target, traceId, trace }))
      } catch (error) {
        endSpan(span, 'error')
        throw error
      }
    },
  }

  async function deliver(
    connection: Connection,
    frame: AgentSendFrame,
    size: number,
    { target, traceId, trace }: { target: string; traceId: string; trace: TraceContext },
  ): Promise<string> {
    const found = candidates(connection, frame.target)
    if (found.length === 0) {
      const refusal = noRouteError(directory, `no active agent for ${target}`)
      sendError(connection, refusal, frame.id)
      return refusal.code
    }
    const caller = callerParty(directory, connection)
    const single = typeof frame.target === 'string' || 'capability' in frame.target
    const recipients: AgentRoute[] = []
    let firstDenial: Denial | undefined
    for (const route of found) {
      const decision = options.access().check({ action: 'message', caller, target: routeParty(route) })
      if (!decision.allowed) {
        auditDenial(audit, 'message', connection, route.agentId, decision, traceId)
        firstDenial ??= decision
        continue
      }
      recipients.push(route)
      if (single) break
    }
    if (recipients.length === 0) {
      const refusal =
        firstDenial === undefined
          ? noRouteError(directory, `no active agent for ${target}`)
          : denialError(firstDenial)
      sendError(connection, refusal, frame.id)
      return refusal.code
    }
    for (const route of recipients) directory.markChosen(route.instanceId)
    const fromAgent = directory.byConnection(connection.id)?.agentId
    const sent = await options.deliveries.sendToAgents(connection, {
      recipients: recipients.map((route) => route.clientId),
      data: frame.data,
      // The delivery row keeps the `traceparent` when there is one: `direct_message` carries both ids from it.
      tags: { traceId: trace.traceparent ?? traceId, ...(fromAgent === undefined ? {} : { fromAgent }) },
      ...(frame.idempotencyKey === undefined ? {} : { idempotencyKey: frame.idempotencyKey }),
      size,
    })
    connection.sendFrame({
      type: 'reply',
      id: frame.id,
      result: {
        id: sent.messageId,
        recipients: recipients.map((route) => route.agentId),
        deliveryIds: sent.deliveryIds,
        timestamp: sent.timestamp,
      },
    })
    recordAgentAudit(audit, {
      kind: 'message',
      outcome: 'ok',
      subject: connection,
      target,
      size,
      correlationId: sent.messageId,
      traceId,
      detail: `recipients=${recipients.map((route) => route.agentId).join(',')}`,
    })
    return 'ok'
  }
}

export type AgentSends = ReturnType<typeof createAgentSends>
