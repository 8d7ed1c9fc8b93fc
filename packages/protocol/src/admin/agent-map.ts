import { z } from 'zod'

/**
 * The who-talks-to-whom map and captured exchanges (conversation replay): the query and answer of
 * `GET /api/admin/agent-map` and `GET /api/admin/conversations/exchanges`.
 */

// ---------------------------------------------------------------- the map

/** The windows the map counts traffic in. */
export const AGENT_MAP_WINDOWS = ['5m', '1h', '24h'] as const
export const AgentMapWindow = z.enum(AGENT_MAP_WINDOWS)
export type AgentMapWindow = z.infer<typeof AgentMapWindow>

/** Milliseconds of each window. */
export const AGENT_MAP_WINDOW_MS: Record<AgentMapWindow, number> = {
  '5m': 5 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
}

/** Query of `GET /api/admin/agent-map`. */
export const AgentMapQuery = z.object({ window: AgentMapWindow.default('1h') })
export type AgentMapQuery = z.infer<typeof AgentMapQuery>

/** An agent (all its instances), a caller that is not an agent (a client id or principal), or a channel. */
export const AgentMapNode = z.object({
  /** `agent:<agent id>`, `caller:<client id or principal>`, `channel:<channel>`. */
  id: z.string(),
  kind: z.enum(['agent', 'caller', 'channel']),
  /** The agent id, client id, principal or channel. */
  name: z.string(),
  /** An agent with an active instance now. */
  active: z.boolean(),
})
export type AgentMapNode = z.infer<typeof AgentMapNode>

/** Traffic from one node to another in the window. */
export const AgentMapEdge = z.object({
  /** `<source id>-><target id>`. */
  id: z.string(),
  source: z.string(),
  target: z.string(),
  /** Requests, streams, messages and publications from source to target. */
  messages: z.number().int().nonnegative(),
  /** Of them, refused by a policy. */
  denied: z.number().int().nonnegative(),
  /** Of them, answered with an error (a failed reply counts against the request's edge). */
  errors: z.number().int().nonnegative(),
  /** (denied + errors) / messages, 0 to 1; 0 without messages. */
  errorRate: z.number().min(0).max(1),
  /** Mean reply latency, when replies were timed. */
  avgLatencyMs: z.number().nonnegative().nullable(),
  /** The two names the Conversation view opens with (`/agents/conversation?a=…&b=…`); null for a channel. */
  conversation: z.object({ a: z.string(), b: z.string() }).nullable(),
})
export type AgentMapEdge = z.infer<typeof AgentMapEdge>

/** `GET /api/admin/agent-map`: counted from the audit rows of the window, so every node's traffic is in it. */
export const AgentMap = z.object({
  window: AgentMapWindow,
  since: z.string(),
  until: z.string(),
  nodes: z.array(AgentMapNode),
  edges: z.array(AgentMapEdge),
})
export type AgentMap = z.infer<typeof AgentMap>

// ---------------------------------------------------------------- captured exchanges

/** Query of `GET /api/admin/conversations/exchanges`: the captured exchanges between `a` and `b`. */
export const CapturedExchangeQuery = z.object({
  a: z.string().min(1).max(200),
  b: z.string().min(1).max(200),
  /** Only exchanges that started before this time (the page before). */
  before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})
export type CapturedExchangeQuery = z.infer<typeof CapturedExchangeQuery>

/** One step of a captured exchange. */
export const CapturedStepInfo = z.object({
  step: z.enum(['request', 'chunk', 'reply', 'error']),
  stepIndex: z.number().int().nonnegative(),
  time: z.string(),
  /** Milliseconds since the request reached the gateway. */
  offsetMs: z.number().nonnegative(),
  instanceId: z.string().nullable(),
  node: z.string().nullable(),
  traceId: z.string().nullable(),
  /** Bytes of the payload before redaction. */
  size: z.number().int().nonnegative().nullable(),
  /** The payload, redacted fields holding `"[redacted]"`; null when there was none or it was too large. */
  payload: z.unknown(),
  /** JSON paths of the redacted fields (`$.password`). */
  redacted: z.array(z.string()),
  /** The payload was over `capture.maxPayloadBytes` and was not stored. */
  truncated: z.boolean(),
})
export type CapturedStepInfo = z.infer<typeof CapturedStepInfo>

export const CapturedExchange = z.object({
  correlationId: z.string(),
  caller: z.string(),
  agentId: z.string(),
  traceId: z.string().nullable(),
  startedAt: z.string(),
  steps: z.array(CapturedStepInfo),
})
export type CapturedExchange = z.infer<typeof CapturedExchange>

/** `GET /api/admin/conversations/exchanges`: newest first; `capture` says whether this gateway captures at all. */
export const CapturedExchangePage = z.object({
  capture: z.object({ enabled: z.boolean() }),
  exchanges: z.array(CapturedExchange),
  /** `before` for the next page; null at the end. */
  nextBefore: z.string().nullable(),
})
export type CapturedExchangePage = z.infer<typeof CapturedExchangePage>
