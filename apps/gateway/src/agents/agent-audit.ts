import type { AuditKind, AuditOutcome } from '@parley/protocol'
import type { ConnectionAudit } from '../audit/connection-audit.js'

export interface AgentAuditEntry {
  kind: Extract<AuditKind, 'agent' | 'request' | 'reply' | 'stream' | 'message'>
  outcome: AuditOutcome
  subject: { id: string; principal: string; clientId: string }
  target?: string
  size?: number
  correlationId?: string
  latencyMs?: number
  traceId?: string
  /** What happened, e.g. an error code or `rule=<id>`. */
  detail?: string
}

/**
 * The one place agent audit rows are written: the acting side in principal / client id (connection id when it
 * is on this node), the other side's agent id (or client id) in `target`, so a conversation reads both ways.
 */
export function recordAgentAudit(audit: ConnectionAudit, entry: AgentAuditEntry): void {
  audit.record({
    kind: entry.kind,
    outcome: entry.outcome,
    principal: entry.subject.principal,
    clientId: entry.subject.clientId || null,
    connectionId: entry.subject.id || null,
    target: entry.target ?? null,
    size: entry.size ?? null,
    traceId: entry.traceId ?? null,
    correlationId: entry.correlationId ?? null,
    latencyMs: entry.latencyMs === undefined ? null : Math.round(entry.latencyMs * 1000) / 1000,
    detail: entry.detail ?? null,
  })
}
