import { ADMIN_ROLES, AgentId } from '@parley/protocol/admin'
import { z } from 'zod'
import type { Parsed } from './agent-requests'
import { describeIssues, readFields, type SearchParamsLike, toSearchParams } from './search-params'

/**
 * Query strings and answers of the upstream lists (`/a2a/agents`, `/mcp/servers`, `/mcp/tools`, `/a2a/tasks`):
 * built by the browser and the gateway client alike and read back by the dashboard's `/api/gw` routes.
 */

/** What the dashboard says about a removed upstream: the gateway itself answers 204 with no body. */
export const RemovedUpstream = z.object({ name: z.string(), removed: z.literal(true) })
export type RemovedUpstream = z.infer<typeof RemovedUpstream>

/** "View as": the tools `/mcp` would list for this principal (with this role); every tool without one. */
export interface McpToolsRequest {
  as?: string
  role?: (typeof ADMIN_ROLES)[number]
}

const McpToolsQuery = z.object({
  as: z.string().min(1).max(200).optional(),
  role: z.enum(ADMIN_ROLES).optional(),
})

/** The task an A2A audit row names: its id (the correlation id) and the agent that serves it (the target). */
export interface A2aTaskRequest {
  taskId: string
  agentId: string
}

export function mcpToolsSearchParams(request: McpToolsRequest): URLSearchParams {
  // A role without a principal means nothing to the gateway: left out.
  return request.as === undefined || request.as.trim() === ''
    ? new URLSearchParams()
    : toSearchParams(request, ['as', 'role'])
}

export function parseMcpToolsRequest(source: SearchParamsLike): Parsed<McpToolsRequest> {
  const parsed = McpToolsQuery.safeParse(readFields(source, ['as', 'role']))
  if (!parsed.success) {
    return {
      ok: false,
      message: describeIssues(parsed.error, {
        as: 'as: a principal (1 to 200 characters)',
        role: `role: one of ${ADMIN_ROLES.join(', ')}`,
      }),
    }
  }
  const { as, role } = parsed.data
  if (as === undefined) return role === undefined ? { ok: true, request: {} } : roleWithoutPrincipal()
  return { ok: true, request: role === undefined ? { as } : { as, role } }
}

function roleWithoutPrincipal(): Parsed<McpToolsRequest> {
  return { ok: false, message: 'role: only with as (a principal)' }
}

export function a2aTaskSearchParams(request: Pick<A2aTaskRequest, 'agentId'>): URLSearchParams {
  return new URLSearchParams({ agentId: request.agentId })
}

export function parseA2aTaskAgent(source: SearchParamsLike): Parsed<{ agentId: string }> {
  const parsed = z.object({ agentId: AgentId }).safeParse(readFields(source, ['agentId']))
  if (!parsed.success) return { ok: false, message: 'agentId: the agent that serves the task' }
  return { ok: true, request: parsed.data }
}
