import { z } from 'zod'

/** Audit rows, their query, and the conversation view between two parties. */

/** Kinds of audit rows. `auth_failure` covers refused credentials at connect and on the admin API. */
export const AUDIT_KINDS = [
  'connect',
  'disconnect',
  'subscribe',
  'unsubscribe',
  'publish',
  'broadcast',
  'send',
  'dead_letter',
  'requeue',
  'admin',
  'auth_failure',
  'error',
  'agent',
  'request',
  'reply',
  'stream',
  'message',
  'handshake',
  'grant',
  'signal',
  'state',
  /** An A2A call (detail: the operation, then an error code); correlation id = the task id. */
  'a2a',
  /**
   * An MCP call on `/mcp` (detail: `tools/list`, `tools/call <tool>`, then an error code or the policy rule);
   * target = the agent id, correlation id = the agent request's.
   */
  'mcp',
] as const
export const AuditKind = z.enum(AUDIT_KINDS)
export type AuditKind = z.infer<typeof AuditKind>

export const AuditOutcome = z.enum(['ok', 'denied', 'error'])
export type AuditOutcome = z.infer<typeof AuditOutcome>

export const AuditEvent = z.object({
  id: z.string(),
  time: z.string(),
  kind: AuditKind,
  principal: z.string().nullable(),
  clientId: z.string().nullable(),
  connectionId: z.string().nullable(),
  channel: z.string().nullable(),
  target: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  outcome: AuditOutcome,
  detail: z.string().nullable(),
  traceId: z.string().nullable(),
  /** Ties a request to its reply, a stream to its end, an introduction to its answer. */
  correlationId: z.string().nullable().optional(),
  /** Milliseconds the interaction took (a reply: from the request reaching the gateway to the answer). */
  latencyMs: z.number().nonnegative().nullable().optional(),
})
export type AuditEvent = z.infer<typeof AuditEvent>

export const AuditPage = z.object({ events: z.array(AuditEvent), nextCursor: z.string().nullable() })
export type AuditPage = z.infer<typeof AuditPage>

/** Query string of `GET /api/admin/audit`. Times are ISO 8601; `cursor` comes from `nextCursor`. */
export const AuditQuery = z.object({
  kind: AuditKind.optional(),
  principal: z.string().max(200).optional(),
  channel: z.string().max(200).optional(),
  target: z.string().max(200).optional(),
  correlationId: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})
export type AuditQuery = z.infer<typeof AuditQuery>

// ---------------------------------------------------------------- conversations

/** Query of `GET /api/admin/conversations`: the interactions between agents (or principals) `a` and `b`. */
export const ConversationQuery = z.object({
  a: z.string().min(1).max(200),
  b: z.string().min(1).max(200),
  since: z.iso.datetime({ offset: true }).optional(),
  /** `oldest`: oldest first, `nextCursor` continues forward. `newest`: newest first, it continues to older rows. */
  order: z.enum(['oldest', 'newest']).default('oldest'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})
export type ConversationQuery = z.infer<typeof ConversationQuery>

/**
 * The rows between `a` and `b` in either direction, in the query's order; `nextCursor` continues in it.
 * `parties` names what each side matched: the name asked for and, for an agent, the agent id and the client
 * ids its instances registered with (so a reply from any instance counts).
 */
export const ConversationPage = z.object({
  a: z.string(),
  b: z.string(),
  parties: z.object({ a: z.array(z.string()), b: z.array(z.string()) }).optional(),
  events: z.array(AuditEvent),
  nextCursor: z.string().nullable(),
})
export type ConversationPage = z.infer<typeof ConversationPage>
