import { type A2aTaskRef, type Caller, type DirectTarget, type ErrorBody, errorBody } from '@parley/protocol'
import { type Denial, denialError, refuseAccess } from '../access/access-gate.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { AgentConnection, RegisteredAgentDirectory } from './agent-directory.js'
import type { AccessAction, AccessParty, AgentAccess, AgentRoute } from './types.js'

/** A connection acting on agents: what the routing needs beyond the directory's view of it. */
export interface AgentCaller extends AgentConnection {
  /** The did of the agent key it authenticated with, if it did. */
  readonly agentKeyId: string | undefined
  /** The A2A task the call runs as (the A2A face's per-call caller): the agent sees it as `from.a2aTask`. */
  readonly a2aTask?: A2aTaskRef
}

/** The caller as the gateway verified it, for `request_incoming` and `stream_incoming`. */
export function callerOf(directory: RegisteredAgentDirectory, connection: AgentCaller): Caller {
  const agentId = directory.byConnection(connection.id)?.agentId
  return {
    principal: connection.principal,
    role: connection.role,
    clientId: connection.clientId,
    ...(agentId === undefined ? {} : { agentId }),
    ...(connection.agentKeyId === undefined ? {} : { identity: connection.agentKeyId }),
    ...(connection.a2aTask === undefined ? {} : { a2aTask: connection.a2aTask }),
  }
}

export function callerParty(directory: RegisteredAgentDirectory, connection: AgentConnection): AccessParty {
  const own = directory.byConnection(connection.id)
  return {
    principal: connection.principal,
    role: connection.role,
    clientId: connection.clientId,
    ...(own === undefined ? {} : { agentId: own.agentId, capabilities: own.capabilities }),
  }
}

export function routeParty(route: AgentRoute): AccessParty {
  return {
    principal: route.principal,
    role: route.role,
    clientId: route.clientId,
    agentId: route.agentId,
    capabilities: route.capabilities,
  }
}

export type { Denial }

export type RouteChoice =
  | { kind: 'route'; route: AgentRoute /** The allow rule that decided, if one did. */; rule?: string }
  | { kind: 'denied'; decision: Denial }
  | { kind: 'none' }

/**
 * The least in-flight active instance for the target that access lets the caller reach with `action`.
 * `denied` only when instances exist and every one of them was denied (the first denial is reported).
 */
export function chooseAllowed(
  directory: RegisteredAgentDirectory,
  access: AgentAccess,
  action: AccessAction,
  connection: AgentConnection,
  target: DirectTarget,
  exclude?: ReadonlySet<string>,
): RouteChoice {
  const candidates = directory.resolve(target, exclude === undefined ? {} : { exclude })
  if (candidates.length === 0) return { kind: 'none' }
  const caller = callerParty(directory, connection)
  let firstDenial: Denial | undefined
  for (const route of candidates) {
    const decision = access.check({ action, caller, target: routeParty(route) })
    if (decision.allowed) {
      directory.markChosen(route.instanceId)
      return decision.rule === undefined
        ? { kind: 'route', route }
        : { kind: 'route', route, rule: decision.rule }
    }
    firstDenial ??= decision
  }
  return firstDenial === undefined ? { kind: 'none' } : { kind: 'denied', decision: firstDenial }
}

export { denialError }

/** Audits a denial through the access module: outcome `denied`, detail naming the rule. */
export function auditDenial(
  audit: ConnectionAudit,
  kind: 'request' | 'stream' | 'message',
  connection: AgentConnection,
  target: string,
  decision: Denial,
  traceId?: string,
): void {
  refuseAccess(audit, decision, {
    kind,
    subject: connection,
    target,
    ...(traceId === undefined ? {} : { traceId }),
  })
}

export function targetName(target: DirectTarget): string {
  if (typeof target === 'string') return target
  return target.agentId === undefined
    ? `capability:${target.capability}`
    : `${target.agentId} capability:${target.capability}`
}

export { sendError } from '../peers/peer.js'

/**
 * The answer when no instance takes a target: `no_route`, unless this node cannot see the other nodes right
 * now (the bus is down), where the target may well be active: then the retryable `unavailable`.
 */
export function noRouteError(directory: RegisteredAgentDirectory, message: string): ErrorBody {
  if (!directory.seesCluster()) {
    return errorBody('unavailable', `${message} on this node, and the other nodes cannot be reached; retry`)
  }
  return errorBody('no_route', message)
}
