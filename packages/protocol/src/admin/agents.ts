import { z } from 'zod'

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

/** Query of `GET /api/admin/grants`: `all=true` adds the revoked grants. */
export const GrantListQuery = z.object({ all: z.enum(['true', 'false']).optional() })
export type GrantListQuery = z.infer<typeof GrantListQuery>
