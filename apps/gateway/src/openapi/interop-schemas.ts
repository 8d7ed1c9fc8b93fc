import { AgentSummary, HttpError } from '@parley/protocol'
import { z } from 'zod'

/**
 * Schemas of the answers the gateway does not define itself: the A2A face (the A2A SDK builds and checks those
 * messages; see a2a-protocol.org) and the MCP face (JSON-RPC, the MCP SDK). They name the fields a caller can
 * rely on and let the rest through, so the reference stays true when the SDKs add fields.
 */

/** The A2A protocol version a caller speaks; without the header, v0.3. */
export const A2aVersionHeaders = z.object({
  'A2A-Version': z
    .enum(['1.0', '0.3'])
    .optional()
    .describe('The A2A version the caller speaks (v0.3 when absent)'),
})

/** A resumed event stream: the last event id the caller has seen. */
export const A2aResumeHeaders = A2aVersionHeaders.extend({
  'Last-Event-ID': z
    .string()
    .optional()
    .describe('Resume after this event (the id of the last one received)'),
})

/** `GET /a2a`: the agents the caller may reach over A2A, with their card URLs. */
export const A2aDirectory = z.object({
  agents: z.array(
    AgentSummary.pick({ agentId: true, status: true, capabilities: true }).extend({ cardUrl: z.string() }),
  ),
})
export type A2aDirectory = z.infer<typeof A2aDirectory>

/** An agent card (A2A v1.0, or v0.3 for callers without `A2A-Version`), signed when a signing key is set. */
export const AgentCard = z.looseObject({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  skills: z.array(z.looseObject({ id: z.string(), name: z.string() })),
})

/** The public keys of the card signatures (RFC 7517). */
export const JsonWebKeySet = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) })

/** A JSON-RPC 2.0 request, notification or batch item (A2A and MCP). */
export const JsonRpcMessage = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  method: z.string().optional(),
})

/** A JSON-RPC 2.0 answer: a result or an error (with the gateway's error body in `data` when it refused). */
export const JsonRpcAnswer = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number(), z.null()]),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() }).optional(),
})

/** The HTTP+JSON binding's error (`google.rpc.Status` shape). */
export const A2aRestError = z.object({
  error: z.looseObject({
    code: z.number(),
    status: z.string(),
    message: z.string(),
    details: z.array(z.unknown()).optional(),
  }),
})

/** Answers of the A2A face that may come from the gateway (auth, limits) or from the binding. */
export const A2aRestFailure = z.union([HttpError, A2aRestError])

/** `POST /a2a/{agentId}/message:send|stream`. */
export const A2aSendMessageRequest = z.looseObject({
  message: z.looseObject({
    messageId: z.string(),
    role: z.string(),
    parts: z.array(z.looseObject({})),
  }),
})

/** The answer of `message:send`: the agent's reply message or the task that carries it. */
export const A2aSendMessageResponse = z.looseObject({
  message: z.looseObject({}).optional(),
  task: z.looseObject({}).optional(),
})

export const A2aTask = z.looseObject({
  id: z.string(),
  contextId: z.string(),
  status: z.looseObject({ state: z.string() }),
})

export const A2aTaskPage = z.object({
  tasks: z.array(A2aTask),
  nextPageToken: z.string(),
  pageSize: z.number().int(),
  totalSize: z.number().int(),
})

/** The query of `GET /a2a/{agentId}/tasks` (checked by the A2A SDK). */
export const A2aTaskListQuery = z.object({
  contextId: z.string().optional(),
  status: z.string().optional().describe('A task state, e.g. TASK_STATE_WORKING'),
  pageToken: z.string().optional(),
  pageSize: z.string().regex(/^\d+$/).optional(),
  historyLength: z.string().regex(/^\d+$/).optional(),
  statusTimestampAfter: z.string().optional(),
  includeArtifacts: z.enum(['true', 'false']).optional(),
})

export const A2aPushConfig = z.looseObject({ id: z.string().optional(), url: z.string().optional() })
export const A2aPushConfigList = z.looseObject({ configs: z.array(A2aPushConfig).optional() })

/** RFC 9728 protected resource metadata of `/mcp`. */
export const ProtectedResourceMetadata = z.looseObject({
  resource: z.string(),
  authorization_servers: z.array(z.string()),
  scopes_supported: z.array(z.string()),
  bearer_methods_supported: z.array(z.string()),
  resource_name: z.string(),
})

/** `/mcp` refusals: the error envelope (auth, body limit) or a JSON-RPC error (scopes, bad message). */
export const McpFailure = z.union([HttpError, JsonRpcAnswer])

/** Server-sent events (`text/event-stream`), read as text. */
export const EventStream = z.string()
