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
 * The one place agent audit rows are written. Correlation id and latency have no columns yet: they go into
 * `detail` as `correlation=<id> latency=<ms> outcome=<…> <detail>` until the audit record grows them.
 */
export function recordAgentAudit(audit: ConnectionAudit, entry: AgentAuditEntry): void {
  const parts: string[] = []
  if (entry.correlationId !== undefined) parts.push(`correlation=${entry.correlationId}`)
  if (entry.latencyMs !== undefined) parts.push(`latency=${Math.round(entry.latencyMs)}`)
  parts.push(`outcome=${entry.outcome}`)
  if (entry.detail !== undefined) parts.push(entry.detail)
  audit.record({
    kind: entry.kind,
    outcome: entry.outcome,
    principal: entry.subject.principal,
    clientId: entry.subject.clientId || null,
    connectionId: entry.subject.id,
    target: entry.target ?? null,
    size: entry.size ?? null,
    traceId: entry.traceId ?? null,
    detail: parts.join(' '),
  })
}
