import type { AuditOutcome, ErrorBody } from '@parley/protocol'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { Principal } from '../auth/auth-provider.js'

/** What an A2A call did, as its audit row's detail names it. */
export type A2aOperation =
  | 'message'
  | 'stream'
  | 'get'
  | 'list'
  | 'cancel'
  | 'subscribe'
  | 'push'
  | 'card'
  | 'other'

const OPERATIONS: Record<string, A2aOperation> = {
  SendMessage: 'message',
  'message/send': 'message',
  'message:send': 'message',
  SendStreamingMessage: 'stream',
  'message/stream': 'stream',
  'message:stream': 'stream',
  GetTask: 'get',
  'tasks/get': 'get',
  ListTasks: 'list',
  'tasks/list': 'list',
  CancelTask: 'cancel',
  'tasks/cancel': 'cancel',
  SubscribeToTask: 'subscribe',
  'tasks/resubscribe': 'subscribe',
  GetExtendedAgentCard: 'card',
  'agent/getAuthenticatedExtendedCard': 'card',
}

/** The operation of a JSON-RPC method (v1.0 or v0.3) or an HTTP+JSON action. */
export function a2aOperation(method: unknown): A2aOperation {
  if (typeof method !== 'string') return 'other'
  if (method.toLowerCase().includes('pushnotification')) return 'push'
  return OPERATIONS[method] ?? 'other'
}

export interface A2aCallAudit {
  principal: Principal
  agentId: string
  operation: A2aOperation
  /** The task the call created or named (the row's correlation id). */
  taskId: string | undefined
  startedAt: number
  /** The gateway's refusal or the protocol error, when the call failed. */
  error?: Pick<ErrorBody, 'code'> | { code: string }
}

const DENIALS = new Set(['policy_denied', 'introduction_required', 'forbidden'])

/**
 * One audit row per A2A call: kind `a2a`, the caller principal (client id `a2a:<principal>`), the agent in
 * `target`, the task id as correlation id, latency and outcome (`denied` for an access refusal), detail the
 * operation and the error code. The agent layer's own `request` / `reply` / `stream` rows come beside it.
 */
export function recordA2aCall(audit: Pick<ConnectionAudit, 'record'>, call: A2aCallAudit): void {
  const outcome: AuditOutcome =
    call.error === undefined ? 'ok' : DENIALS.has(call.error.code) ? 'denied' : 'error'
  audit.record({
    kind: 'a2a',
    outcome,
    principal: call.principal.id,
    clientId: `a2a:${call.principal.id}`,
    connectionId: null,
    target: call.agentId,
    correlationId: call.taskId ?? null,
    latencyMs: Date.now() - call.startedAt,
    detail: call.error === undefined ? call.operation : `${call.operation} ${call.error.code}`,
  })
}
