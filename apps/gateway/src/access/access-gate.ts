import type { AuditKind, ErrorBody } from '@parley/protocol'
import { errorBody } from '@parley/protocol'
import type { AccessDecision, AccessRequest, AgentAccess } from '../agents/types.js'
import type { AuditSubject, ConnectionAudit } from '../audit/connection-audit.js'

/** A policy refusal: `policy_denied` (the rule, or the default effect) or `introduction_required`. */
export type Denial = Extract<AccessDecision, { allowed: false }>

/** How a refusal is written to the audit trail: who asked, about what, on which path. */
export interface RefusalAudit {
  kind: AuditKind
  subject: AuditSubject
  /** The agent id or client id acted on. */
  target?: string
  channel?: string
  traceId?: string
  correlationId?: string
  /** Put before the rule in the detail, e.g. the state operation. */
  detailPrefix?: string
}

export type AccessAnswer =
  | { allowed: true; decision: Extract<AccessDecision, { allowed: true }> }
  | { allowed: false; decision: Denial; error: ErrorBody }

/**
 * The audit detail of a denial: `policy_denied rule=<id>`, `policy_denied default` (the default effect
 * denied) or `introduction_required rule=<id>`.
 */
export function denialDetail(decision: Denial): string {
  return `${decision.code} ${decision.rule === undefined ? 'default' : `rule=${decision.rule}`}`
}

/**
 * The rule a denied row's detail names (see `denialDetail`): its id, `default` for the default effect, or
 * `scope` for refusals that are not policy decisions (a token's scopes, a role).
 */
export function denialRule(detail: string | null): string {
  const match = detail === null ? null : /(?:^|\s)rule=(\S+)/.exec(detail)
  if (match?.[1] !== undefined) return match[1]
  return detail !== null && /(?:^|\s)(?:policy_denied|introduction_required) default$/.test(detail)
    ? 'default'
    : 'scope'
}

/** The typed error a denial answers: `policy_denied` with `details.rule`, or `introduction_required`. */
export function denialError(decision: Pick<Denial, 'code' | 'message' | 'rule'>): ErrorBody {
  return errorBody(
    decision.code,
    decision.message,
    undefined,
    decision.rule === undefined ? undefined : { rule: decision.rule },
  )
}

/**
 * Audits a refusal already decided (outcome `denied`, detail naming the rule) and builds the typed error
 * the caller gets. Used directly when several candidates were tried and the first denial is reported.
 */
export function refuseAccess(
  audit: Pick<ConnectionAudit, 'record'>,
  decision: Denial,
  as: RefusalAudit,
): { allowed: false; decision: Denial; error: ErrorBody } {
  const detail = denialDetail(decision)
  audit.record({
    kind: as.kind,
    outcome: 'denied',
    principal: as.subject.principal,
    clientId: as.subject.clientId || null,
    connectionId: as.subject.id || null,
    channel: as.channel ?? null,
    target: as.target ?? null,
    traceId: as.traceId ?? null,
    correlationId: as.correlationId ?? null,
    detail: as.detailPrefix === undefined ? detail : `${as.detailPrefix} ${detail}`,
  })
  return { allowed: false, decision, error: denialError(decision) }
}

/**
 * The one access decision of every entry path (WebSocket and long-polling frames, A2A calls): the policy
 * and grant check, the audit row of a refusal and the typed refusal. The entry paths translate the refusal
 * into their own envelope (an error frame, a JSON-RPC error); they never decide themselves.
 */
export function decideAccess(
  access: AgentAccess,
  audit: Pick<ConnectionAudit, 'record'>,
  request: AccessRequest,
  as: RefusalAudit,
): AccessAnswer {
  const decision = access.check(request)
  return decision.allowed ? { allowed: true, decision } : refuseAccess(audit, decision, as)
}
