import { z } from 'zod'
import { ADMIN_ROLES } from '#admin/access'
import { AgentId, Capability } from '#admin/agents'

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

/** Query of `GET /api/admin/mcp/tools`: the principal to view the tools as, and its role. */
export const McpToolQuery = z.object({
  as: z.string().min(1).max(200).optional(),
  role: z.enum(ADMIN_ROLES).optional(),
})
export type McpToolQuery = z.infer<typeof McpToolQuery>

// ---------------------------------------------------------------- A2A tasks (admin view)

/** A2A task states as the admin API names them (v0.3 spelling; `unknown` when the agent gave none). */
export const A2A_TASK_STATES = [
  'submitted',
  'working',
  'input-required',
  'auth-required',
  'completed',
  'canceled',
  'failed',
  'rejected',
  'unknown',
] as const
export const A2aTaskState = z.enum(A2A_TASK_STATES)
export type A2aTaskState = z.infer<typeof A2aTaskState>

/** One part of an artifact, made readable: a text part's text, a data part's JSON, a file's name or URL. */
export const A2aTaskPart = z.object({
  kind: z.enum(['text', 'data', 'file', 'other']),
  /** At most 4,000 characters (cut with `…`). */
  text: z.string(),
  mediaType: z.string().nullable(),
})
export type A2aTaskPart = z.infer<typeof A2aTaskPart>

export const A2aTaskArtifact = z.object({
  artifactId: z.string(),
  name: z.string().nullable(),
  description: z.string().nullable(),
  parts: z.array(A2aTaskPart),
})
export type A2aTaskArtifact = z.infer<typeof A2aTaskArtifact>

/** `GET /api/admin/a2a/tasks/:id?agentId=` and the items of `GET /api/admin/a2a/tasks?owner=`. */
export const A2aTaskInfo = z.object({
  id: z.string(),
  contextId: z.string(),
  /** The Parley agent that serves it. */
  agentId: z.string(),
  /** The caller principal that created it. */
  owner: z.string(),
  state: A2aTaskState,
  /** The text of the latest status message (the agent's question, its failure), when it has one. */
  statusMessage: z.string().nullable(),
  artifacts: z.array(A2aTaskArtifact),
  /** Events in the task's log (its newest sequence number). */
  events: z.number().int().nonnegative(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type A2aTaskInfo = z.infer<typeof A2aTaskInfo>

/** Query of `GET /api/admin/a2a/tasks/:id`: the agent that serves the task (the audit row's target). */
export const A2aTaskQuery = z.object({ agentId: AgentId })
export type A2aTaskQuery = z.infer<typeof A2aTaskQuery>

/** Query of `GET /api/admin/a2a/tasks`: one caller's tasks, newest change first, optionally for one agent. */
export const A2aTaskListQuery = z.object({
  owner: z.string().min(1).max(200),
  agentId: AgentId.optional(),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  pageToken: z.string().max(500).optional(),
})
export type A2aTaskListQuery = z.infer<typeof A2aTaskListQuery>

export const A2aTaskList = z.object({ tasks: z.array(A2aTaskInfo), nextPageToken: z.string().nullable() })
export type A2aTaskList = z.infer<typeof A2aTaskList>
