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

// ---------------------------------------------------------------- deliveries and dead letters

/** Live delivery counters (`GET /api/admin/deliveries`). Counters count since the gateway started. */
export const DeliveryStats = z.object({
  backend: z.enum(['memory', 'postgres', 'redis']),
  /** Deliveries waiting for their recipient or for a retry. */
  pending: z.number().int().nonnegative(),
  /** Deliveries sent and waiting for an ack. */
  inflight: z.number().int().nonnegative(),
  /** Dead letters currently in the queue. */
  deadLetters: z.number().int().nonnegative(),
  durableSubscriptions: z.number().int().nonnegative(),
  counters: z.object({
    enqueued: z.number().int().nonnegative(),
    delivered: z.number().int().nonnegative(),
    acked: z.number().int().nonnegative(),
    nacked: z.number().int().nonnegative(),
    redeliveries: z.number().int().nonnegative(),
    ackTimeouts: z.number().int().nonnegative(),
    deadLettered: z.number().int().nonnegative(),
    expired: z.number().int().nonnegative(),
    requeued: z.number().int().nonnegative(),
    duplicatesSuppressed: z.number().int().nonnegative(),
  }),
})
export type DeliveryStats = z.infer<typeof DeliveryStats>

/** `webhook`: an A2A push notification the gateway POSTs to a caller's URL. */
export const DELIVERY_KINDS = ['direct', 'channel', 'webhook'] as const
export const DeliveryKind = z.enum(DELIVERY_KINDS)
export type DeliveryKind = z.infer<typeof DeliveryKind>

/** Why a delivery was dead-lettered. */
export const DEAD_LETTER_REASONS = ['max_retries', 'rejected'] as const
export const DeadLetterReason = z.enum(DEAD_LETTER_REASONS)

export const DeadLetter = z.object({
  /** The delivery id; requeueing keeps it. */
  id: z.string(),
  messageId: z.string(),
  kind: DeliveryKind,
  recipient: z.string(),
  source: z.string(),
  channel: z.string().nullable(),
  data: z.unknown(),
  attempts: z.number().int().nonnegative(),
  reason: DeadLetterReason,
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deadAt: z.string(),
})
export type DeadLetter = z.infer<typeof DeadLetter>

export const DeadLetterPage = z.object({
  deadLetters: z.array(DeadLetter),
  nextCursor: z.string().nullable(),
})
export type DeadLetterPage = z.infer<typeof DeadLetterPage>

/** Query string of `GET /api/admin/dlq` and `DELETE /api/admin/dlq` (purge; `cursor`/`limit` ignored). */
export const DeadLetterQuery = z.object({
  recipient: z.string().max(200).optional(),
  channel: z.string().max(200).optional(),
  kind: DeliveryKind.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})
export type DeadLetterQuery = z.infer<typeof DeadLetterQuery>

export const RequeueResult = z.object({ id: z.string(), requeued: z.literal(true) })
export type RequeueResult = z.infer<typeof RequeueResult>

export const PurgeResult = z.object({ purged: z.number().int().nonnegative() })
export type PurgeResult = z.infer<typeof PurgeResult>

// ---------------------------------------------------------------- tokens

export const ADMIN_ROLES = ['admin', 'agent', 'client', 'connector'] as const

export const TokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string()),
  subject: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
})
export type TokenInfo = z.infer<typeof TokenInfo>

export const TokenList = z.object({ tokens: z.array(TokenInfo) })
export type TokenList = z.infer<typeof TokenList>

/** The longest token lifetime `POST /api/admin/tokens` takes: 100 years, in seconds. */
export const MAX_TOKEN_LIFETIME_S = 100 * 365 * 24 * 3600

/** Body of `POST /api/admin/tokens`. */
export const CreateTokenRequest = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string().min(3).max(200)).max(100).default([]),
  /** Lifetime in seconds, at most 100 years (the expiry must stay a date a database can store); absent = no expiry. */
  expiresIn: z.number().int().positive().max(MAX_TOKEN_LIFETIME_S).optional(),
})
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>

/** Answer of `POST /api/admin/tokens`: the secret is shown this once and never again. */
export const CreatedToken = z.object({ token: z.string(), info: TokenInfo })
export type CreatedToken = z.infer<typeof CreatedToken>

// ---------------------------------------------------------------- pairing, devices, agent keys

export const PendingPairingInfo = z.object({
  id: z.string(),
  channelType: z.string(),
  senderId: z.string(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  ageS: z.number().nonnegative(),
  failedAttempts: z.number().int().nonnegative(),
  locked: z.boolean(),
})
export type PendingPairingInfo = z.infer<typeof PendingPairingInfo>

export const PairedSenderInfo = z.object({
  channelType: z.string(),
  senderId: z.string(),
  displayName: z.string().nullable(),
  pairedAt: z.string(),
  approvedBy: z.string().nullable(),
})
export type PairedSenderInfo = z.infer<typeof PairedSenderInfo>

/** `GET /api/admin/pairing`: pending requests (oldest first) and paired senders. */
export const PairingOverview = z.object({
  pending: z.array(PendingPairingInfo),
  paired: z.array(PairedSenderInfo),
})
export type PairingOverview = z.infer<typeof PairingOverview>

/** Body of `POST /api/admin/pairing/approve`: the code path (wrong codes count against the sender's request). */
export const ApproveCodeRequest = z.object({
  channelType: z.string().min(1).max(64),
  code: z.string().min(1).max(32),
  senderId: z.string().min(1).max(256).optional(),
})
export type ApproveCodeRequest = z.infer<typeof ApproveCodeRequest>

export const PairingDecision = z.object({
  requestId: z.string().nullable(),
  channelType: z.string(),
  senderId: z.string(),
  status: z.enum(['approved', 'denied', 'revoked']),
})
export type PairingDecision = z.infer<typeof PairingDecision>

export const DeviceRequestInfo = z.object({
  id: z.string(),
  deviceName: z.string(),
  platform: z.string().nullable(),
  remoteAddress: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  tokenId: z.string().nullable(),
  /** The agent identity (did:key) the device asked to register, when it sent one; approval registers it. */
  identity: z.string().nullable().default(null),
})
export type DeviceRequestInfo = z.infer<typeof DeviceRequestInfo>

export const DeviceRequestList = z.object({ devices: z.array(DeviceRequestInfo) })
export type DeviceRequestList = z.infer<typeof DeviceRequestList>

/** Body of `POST /api/admin/devices/:id/approve`; the device gets a token with this role and these scopes. */
export const ApproveDeviceRequest = z.object({
  role: z.enum(ADMIN_ROLES).default('client'),
  scopes: z.array(z.string().min(3).max(200)).max(100).default(['*:*']),
})
export type ApproveDeviceRequest = z.infer<typeof ApproveDeviceRequest>

export const AgentKeyInfo = z.object({
  id: z.string(),
  publicKey: z.string(),
  name: z.string(),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
})
export type AgentKeyInfo = z.infer<typeof AgentKeyInfo>

export const AgentKeyList = z.object({ agentKeys: z.array(AgentKeyInfo) })
export type AgentKeyList = z.infer<typeof AgentKeyList>

/** Body of `POST /api/admin/agent-keys`. */
export const RegisterAgentKeyRequest = z.object({
  id: z.string().min(1).max(512),
  publicKey: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  role: z.enum(ADMIN_ROLES).default('agent'),
  scopes: z.array(z.string().min(3).max(200)).max(100).default(['*:*']),
})
export type RegisterAgentKeyRequest = z.infer<typeof RegisterAgentKeyRequest>

// ---------------------------------------------------------------- dashboard sessions

/**
 * Headers of the dashboard server's calls to the gateway. With the secret both are configured with, the
 * gateway takes the browser's address from the second one (for the failed-auth limit and the session list).
 */
export const DASHBOARD_SECRET_HEADER = 'x-parley-dashboard-secret'
export const CLIENT_ADDRESS_HEADER = 'x-parley-client-address'

/** One live dashboard login (`GET /api/admin/sessions`); `id` is public, the secret is never shown again. */
export const DashboardSessionInfo = z.object({
  id: z.string(),
  principal: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  address: z.string().nullable(),
  /** True for the session that made this request. */
  current: z.boolean(),
})
export type DashboardSessionInfo = z.infer<typeof DashboardSessionInfo>

export const DashboardSessionList = z.object({ sessions: z.array(DashboardSessionInfo) })
export type DashboardSessionList = z.infer<typeof DashboardSessionList>

/** Body of `POST /api/admin/sessions` (log in with an admin credential as the Bearer token). */
export const CreateDashboardSessionRequest = z.object({ userAgent: z.string().max(512).optional() })
export type CreateDashboardSessionRequest = z.infer<typeof CreateDashboardSessionRequest>

/** Answer of `POST /api/admin/sessions`: `session` is the secret for the cookie, shown this once. */
export const CreatedDashboardSession = z.object({ session: z.string(), info: DashboardSessionInfo })
export type CreatedDashboardSession = z.infer<typeof CreatedDashboardSession>

/** Answer of `DELETE /api/admin/sessions` ("log out everywhere") and `DELETE /api/admin/sessions/current`. */
export const RevokedDashboardSessions = z.object({ revoked: z.number().int().nonnegative() })
export type RevokedDashboardSessions = z.infer<typeof RevokedDashboardSessions>

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

/** One online client as the operator sees it (`GET /api/admin/presence`), cluster-wide. */
export const AdminPresenceEntry = z.object({
  clientId: z.string(),
  principal: z.string(),
  status: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  lastSeen: z.number(),
  connections: z.number().int().nonnegative(),
  /** Nodes holding its connections. */
  nodes: z.array(z.string()),
  /** Channels it is subscribed to. */
  channels: z.array(z.string()),
})
export type AdminPresenceEntry = z.infer<typeof AdminPresenceEntry>

export const AdminPresenceList = z.object({
  clients: z.array(AdminPresenceEntry),
  principals: z.array(
    z.object({
      principal: z.string(),
      status: z.string(),
      clients: z.array(z.string()),
      connections: z.number().int().nonnegative(),
      lastSeen: z.number(),
    }),
  ),
})
export type AdminPresenceList = z.infer<typeof AdminPresenceList>

/** `ok`: on the bus; `degraded`: the bus (Redis) is unreachable and the node serves only its own clients. */
export const BUS_STATES = ['local', 'ok', 'degraded'] as const

/** One gateway node (`GET /api/admin/nodes`). A single node without Redis lists only itself, bus `local`. */
export const NodeInfo = z.object({
  id: z.string(),
  version: z.string(),
  startedAt: z.string(),
  /** Last heartbeat on the bus (this node: now). */
  lastSeenAt: z.string(),
  connections: z.number().int().nonnegative(),
  /** Channels it listens to on the bus (those with local subscribers). */
  channels: z.number().int().nonnegative(),
  bus: z.enum(BUS_STATES),
  /** True for the node that answered. */
  self: z.boolean(),
})
export type NodeInfo = z.infer<typeof NodeInfo>

export const NodeList = z.object({ nodes: z.array(NodeInfo) })
export type NodeList = z.infer<typeof NodeList>

// ---------------------------------------------------------------- agents

/** An agent's stable name; several connections (instances) may register the same one. */
export const AgentId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_\-.:@]+$/, 'agent ids use letters, digits and _ - . : @')
export type AgentId = z.infer<typeof AgentId>

/** What an agent can do, such as `summarize` or `translate.fr`. */
export const Capability = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_\-.:/]+$/, 'capabilities use letters, digits and _ - . : /')
export type Capability = z.infer<typeof Capability>

/** A JSON value small enough to travel in a registration (a JSON Schema, say): at most 64 KiB serialized. */
const SmallJsonObject = z.record(z.string(), z.unknown()).refine((value) => {
  try {
    return JSON.stringify(value).length <= 65_536
  } catch {
    return false
  }
}, 'at most 64 KiB of JSON')

const InfoText = z.string().min(1).max(1_000)
const MediaType = z.string().min(1).max(200)

/**
 * How an agent describes one capability: shown as an A2A skill on its card and as an MCP tool, and used to check
 * arguments before they reach the agent (`inputSchema`, a JSON Schema of the request's `data`; the gateway
 * refuses a registration whose schema does not compile). Every field is optional.
 */
export const CapabilityInfo = z
  .object({
    /** A short human title (A2A skill name, MCP tool title); the capability itself when absent. */
    title: InfoText.optional(),
    description: z.string().min(1).max(4_000).optional(),
    tags: z.array(z.string().min(1).max(100)).max(20).optional(),
    examples: z.array(InfoText).max(20).optional(),
    inputModes: z.array(MediaType).max(20).optional(),
    outputModes: z.array(MediaType).max(20).optional(),
    /** JSON Schema (draft 2020-12) of the request data; any JSON object when absent. */
    inputSchema: SmallJsonObject.optional(),
    /** JSON Schema of the answer, when the agent promises one. */
    outputSchema: SmallJsonObject.optional(),
  })
  .strict()
export type CapabilityInfo = z.infer<typeof CapabilityInfo>

/** A capability in `agent_register`: its name alone, or its name with a description. */
export const CapabilitySpec = z.union([Capability, CapabilityInfo.extend({ name: Capability }).strict()])
export type CapabilitySpec = z.infer<typeof CapabilitySpec>

/**
 * How an agent instance is reached: a WebSocket / long-polling connection of the SDK, an external A2A agent the
 * gateway calls over HTTP, or a tool of an upstream MCP server.
 */
export const AGENT_KINDS = ['websocket', 'a2a', 'mcp'] as const
export const AgentKind = z.enum(AGENT_KINDS)
export type AgentKind = z.infer<typeof AgentKind>

export const AGENT_STATUSES = ['active', 'inactive'] as const
export const AgentStatus = z.enum(AGENT_STATUSES)
export type AgentStatus = z.infer<typeof AgentStatus>

/** One connection registered as an agent. */
export const AgentInstance = z.object({
  instanceId: z.string(),
  agentId: AgentId,
  clientId: z.string(),
  principal: z.string(),
  capabilities: z.array(Capability),
  /** The descriptions it gave of its capabilities, by capability (only those it described). */
  capabilityInfo: z.record(Capability, CapabilityInfo).optional(),
  /** How the gateway reaches it; `websocket` when absent. */
  kind: AgentKind.optional(),
  /** For an external A2A agent: the card URL of this instance. */
  url: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()),
  /** `inactive` once it stopped heartbeating or disconnected; removed `agentTimeout` later. */
  status: AgentStatus,
  /** Epoch ms of registration. */
  connectedAt: z.number(),
  /** Epoch ms of its last frame. */
  lastSeen: z.number(),
  /** Requests and streams it is answering now. */
  inFlight: z.number().int().nonnegative(),
  /** The gateway node it is connected to. */
  node: z.string(),
})
export type AgentInstance = z.infer<typeof AgentInstance>

/** An agent id with all its instances. */
export const AgentSummary = z.object({
  agentId: AgentId,
  /** Union of its instances' capabilities. */
  capabilities: z.array(Capability),
  /** `active` when any instance is. */
  status: AgentStatus,
  /** How its instances are reached (the first instance's kind); `websocket` when absent. */
  kind: AgentKind.optional(),
  /** Its A2A agent card on this gateway (set by the admin API and `GET /agents` when A2A is enabled). */
  cardUrl: z.string().optional(),
  /** Epoch ms: the earliest `connectedAt` of its instances. */
  connectedSince: z.number(),
  instances: z.array(AgentInstance),
})
export type AgentSummary = z.infer<typeof AgentSummary>

/** `GET /agents` (what the caller may reach) and `GET /api/admin/agents` (everything). */
export const AgentList = z.object({ agents: z.array(AgentSummary) })
export type AgentList = z.infer<typeof AgentList>

/** Query of `GET /agents` and `GET /api/admin/agents`. */
export const AgentListQuery = z.object({ capability: Capability.optional() })

// ---------------------------------------------------------------- policies

export const POLICY_ACTIONS = ['message', 'request', 'stream', 'subscribe', 'publish'] as const
export const PolicyAction = z.enum(POLICY_ACTIONS)
/**
 * `allow` and `deny` decide; `require_introduction` allows only between peers holding a live grant (an
 * accepted `introduce`) and answers `introduction_required` otherwise.
 */
export const POLICY_EFFECTS = ['allow', 'deny', 'require_introduction'] as const
export const PolicyEffect = z.enum(POLICY_EFFECTS)
export type PolicyEffect = z.infer<typeof PolicyEffect>
/** The effect when no rule matches. */
export const PolicyDefaultEffect = z.enum(['allow', 'deny'])
export const PolicySubject = z.object({
  kind: z.enum(['principal', 'role', 'capability']),
  /** Whole-value match; `*` matches any run of characters. */
  pattern: z.string().min(1).max(200),
})
export const PolicyTarget = z.object({
  kind: z.enum(['principal', 'capability', 'channel']),
  pattern: z.string().min(1).max(200),
})
export const PolicyRuleInfo = z.object({
  id: z.string(),
  description: z.string().nullable(),
  effect: PolicyEffect,
  actions: z.array(z.union([PolicyAction, z.literal('*')])).min(1),
  subject: PolicySubject,
  target: PolicyTarget,
  /** Higher is evaluated first; at equal priority deny, then require_introduction, then allow. */
  priority: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type PolicyRuleInfo = z.infer<typeof PolicyRuleInfo>

/** `GET /api/admin/policies`: the rules in evaluation order. */
export const PolicyList = z.object({
  version: z.number().int().nonnegative(),
  defaultEffect: PolicyDefaultEffect,
  rules: z.array(PolicyRuleInfo),
})
export type PolicyList = z.infer<typeof PolicyList>

/** Body of `POST /api/admin/policies`. */
export const CreatePolicyRuleRequest = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_\-.]{1,64}$/)
    .optional(),
  description: z.string().max(500).optional(),
  effect: PolicyEffect,
  actions: z
    .array(z.union([PolicyAction, z.literal('*')]))
    .min(1)
    .max(6),
  subject: PolicySubject,
  target: PolicyTarget,
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
})
export type CreatePolicyRuleRequest = z.infer<typeof CreatePolicyRuleRequest>

/** Body of `PATCH /api/admin/policies/:id`; `description: null` removes it. */
export const UpdatePolicyRuleRequest = CreatePolicyRuleRequest.omit({ id: true })
  .partial()
  .extend({ description: z.string().max(500).nullable().optional() })
export type UpdatePolicyRuleRequest = z.infer<typeof UpdatePolicyRuleRequest>

/** Body of `PUT /api/admin/policies/default`. */
export const SetPolicyDefaultRequest = z.object({ effect: PolicyDefaultEffect })

// ---------------------------------------------------------------- grants (accepted introductions)

export const GrantParty = z.object({
  principal: z.string(),
  clientId: z.string(),
  agentId: z.string().optional(),
})
export const GrantInfo = z.object({
  id: z.string(),
  /** Who asked to be introduced. */
  from: GrantParty,
  /** Who accepted. */
  to: GrantParty,
  reason: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
})
export type GrantInfo = z.infer<typeof GrantInfo>

/** `GET /api/admin/grants` (live ones unless `?all=true`). */
export const GrantList = z.object({ grants: z.array(GrantInfo) })
export type GrantList = z.infer<typeof GrantList>

// ---------------------------------------------------------------- conversations

/** Query of `GET /api/admin/conversations`: the interactions between agents (or principals) `a` and `b`. */
export const ConversationQuery = z.object({
  a: z.string().min(1).max(200),
  b: z.string().min(1).max(200),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})
export type ConversationQuery = z.infer<typeof ConversationQuery>

/** The rows between `a` and `b` in either direction, oldest first; `nextCursor` continues forward. */
export const ConversationPage = z.object({
  a: z.string(),
  b: z.string(),
  events: z.array(AuditEvent),
  nextCursor: z.string().nullable(),
})
export type ConversationPage = z.infer<typeof ConversationPage>

// ---------------------------------------------------------------- upstreams: external A2A agents, MCP servers

/**
 * What the gateway presents to an upstream (an external A2A agent or an MCP server). Write-only: kept encrypted
 * at rest, never returned, never logged; listings only say which kind is set.
 */
export const UpstreamCredentials = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: z.string().min(1).max(8_192) }).strict(),
  z
    .object({
      type: z.literal('header'),
      name: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9-]+$/, 'a header name'),
      value: z.string().min(1).max(8_192),
    })
    .strict(),
])
export type UpstreamCredentials = z.infer<typeof UpstreamCredentials>

/** An `http:` / `https:` URL of at most 2,048 characters. */
export const UpstreamUrl = z
  .string()
  .max(2_048)
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'an http or https URL')

export const UPSTREAM_STATES = ['up', 'down', 'pending'] as const
export const UpstreamState = z.enum(UPSTREAM_STATES)
export type UpstreamState = z.infer<typeof UpstreamState>

/** The health of one upstream URL as the gateway last saw it. */
export const UpstreamHealth = z.object({
  url: z.string(),
  /** `pending` until the first fetch ends. */
  state: UpstreamState,
  /** ISO time of the last successful card fetch (A2A) or tool listing (MCP). */
  lastFetchAt: z.string().nullable(),
  /** The last failure, cleared by a success. */
  lastError: z.string().nullable(),
})
export type UpstreamHealth = z.infer<typeof UpstreamHealth>

/** Body of `POST /api/admin/a2a/agents`: an external A2A agent, by the card URLs of its instances. */
export const AddA2aAgentRequest = z
  .object({
    /** The Parley agent id it is reached by; the card's name made into an id when absent. */
    agentId: AgentId.optional(),
    /** Card URLs (`…/.well-known/agent-card.json`, or the agent's base URL); several are instances. */
    urls: z.array(UpstreamUrl).min(1).max(16),
    credentials: UpstreamCredentials.optional(),
  })
  .strict()
export type AddA2aAgentRequest = z.infer<typeof AddA2aAgentRequest>

/** An external A2A agent (`GET /api/admin/a2a/agents`). */
export const A2aAgentInfo = z.object({
  agentId: AgentId,
  /** The card's name and description, from the last good fetch. */
  name: z.string().nullable(),
  description: z.string().nullable(),
  /** Its skills, registered as capabilities. */
  capabilities: z.array(Capability),
  /** One entry per instance URL. */
  instances: z.array(UpstreamHealth),
  /** Whether the card was signed and the signature verified (null: no signature). */
  signatureVerified: z.boolean().nullable(),
  /** The kind of credentials set, never their value. */
  credentials: z.enum(['none', 'bearer', 'header']),
  createdAt: z.string(),
})
export type A2aAgentInfo = z.infer<typeof A2aAgentInfo>
export const A2aAgentList = z.object({ agents: z.array(A2aAgentInfo) })
export type A2aAgentList = z.infer<typeof A2aAgentList>

/** An MCP server name: also the prefix of its tools (`{server}__{tool}`). */
export const McpServerName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -, starting with a letter or digit')

/** Body of `POST /api/admin/mcp/servers`. */
export const AddMcpServerRequest = z
  .object({ name: McpServerName, url: UpstreamUrl, credentials: UpstreamCredentials.optional() })
  .strict()
export type AddMcpServerRequest = z.infer<typeof AddMcpServerRequest>

/** One tool as `/mcp` publishes it. */
export const McpToolInfo = z.object({
  /** The name `/mcp` lists (`{server}__{tool}` or `{agentId}__{capability}`). */
  name: z.string(),
  /** The upstream tool's own name, or the agent capability. */
  source: z.string(),
  /** `upstream` (an MCP server's tool) or `agent` (a Parley agent's capability). */
  origin: z.enum(['upstream', 'agent']),
  /** The MCP server or the agent id it comes from. */
  owner: z.string(),
  description: z.string().nullable(),
  /** Tool calls since the gateway started (this node), and how many ended in an error. */
  calls: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
})
export type McpToolInfo = z.infer<typeof McpToolInfo>

/** A registered MCP server (`GET /api/admin/mcp/servers`). */
export const McpServerInfo = z.object({
  name: McpServerName,
  health: UpstreamHealth,
  /** Its tools as last listed (empty while down). */
  tools: z.array(McpToolInfo),
  credentials: z.enum(['none', 'bearer', 'header']),
  createdAt: z.string(),
})
export type McpServerInfo = z.infer<typeof McpServerInfo>
export const McpServerList = z.object({ servers: z.array(McpServerInfo) })
export type McpServerList = z.infer<typeof McpServerList>

/**
 * `GET /api/admin/mcp/tools?as=<principal>` ("view as"): the tools `/mcp` lists for that principal (every tool
 * without `as`).
 */
export const McpToolList = z.object({ as: z.string().nullable(), tools: z.array(McpToolInfo) })
export type McpToolList = z.infer<typeof McpToolList>
