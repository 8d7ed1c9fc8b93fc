import { z } from 'zod'

/**
 * Schemas of the gateway's HTTP answers (health and the admin API). The gateway builds its answers from
 * them and the dashboard parses with them, so both sides agree on one definition.
 */

export const HealthStatus = z.enum(['ok', 'degraded', 'draining'])

export const Health = z.object({
  status: HealthStatus,
  connections: z.number().int().nonnegative(),
  connected_agents: z.number().int().nonnegative(),
  uptime_s: z.number().nonnegative(),
  version: z.string(),
  timestamp: z.string(),
})
export type Health = z.infer<typeof Health>

export const Readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), message: z.string().optional() })),
})
export type Readiness = z.infer<typeof Readiness>

export const ConnectionInfo = z.object({
  connectionId: z.string(),
  clientId: z.string(),
  sessionId: z.string(),
  principal: z.string(),
  transport: z.enum(['websocket', 'polling']),
  remoteAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  connectedAt: z.string(),
  subscriptions: z.array(z.string()),
  messagesIn: z.number().int().nonnegative(),
  messagesOut: z.number().int().nonnegative(),
})
export type ConnectionInfo = z.infer<typeof ConnectionInfo>

export const ConnectionList = z.object({ connections: z.array(ConnectionInfo) })
export type ConnectionList = z.infer<typeof ConnectionList>

export const ChannelInfo = z.object({
  name: z.string(),
  subscribers: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  lastMessageAt: z.string().nullable(),
})
export type ChannelInfo = z.infer<typeof ChannelInfo>

export const ChannelList = z.object({ channels: z.array(ChannelInfo) })
export type ChannelList = z.infer<typeof ChannelList>

/** Kinds of audit rows. `auth_failure` covers refused credentials at connect and on the admin API. */
export const AUDIT_KINDS = [
  'connect',
  'disconnect',
  'subscribe',
  'unsubscribe',
  'publish',
  'broadcast',
  'auth_failure',
  'error',
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
})
export type AuditEvent = z.infer<typeof AuditEvent>

export const AuditPage = z.object({ events: z.array(AuditEvent), nextCursor: z.string().nullable() })
export type AuditPage = z.infer<typeof AuditPage>

/** Query string of `GET /api/admin/audit`. Times are ISO 8601; `cursor` comes from `nextCursor`. */
export const AuditQuery = z.object({
  kind: AuditKind.optional(),
  principal: z.string().max(200).optional(),
  channel: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})
export type AuditQuery = z.infer<typeof AuditQuery>

/** Body of every HTTP error answer: the same envelope as the `error` frame, under `error`. */
export const HttpError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    retryAfterMs: z.number().optional(),
  }),
})
export type HttpError = z.infer<typeof HttpError>
