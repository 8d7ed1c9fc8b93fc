import {
  type A2aTaskState,
  AddA2aAgentRequest,
  AddMcpServerRequest,
  type AgentKind,
  type AgentSummary,
  type AuditEvent,
  type UpstreamCredentials,
  type UpstreamState,
} from '@parley/protocol/admin'
import { type FormResult, validated } from './access-forms'
import type { StatusTone } from './presence'

/**
 * What the Agents, MCP and Conversation pages say about upstreams: external A2A agents and MCP servers,
 * the kinds of agent, their described capabilities, A2A tasks named by audit rows, and the add forms.
 */

export const AGENT_KIND_LABELS: Record<AgentKind, string> = {
  websocket: 'WebSocket',
  a2a: 'external A2A',
  mcp: 'MCP upstream',
}

/** How the gateway reaches an agent; `websocket` when the listing does not say. */
export function agentKindOf(agent: Pick<AgentSummary, 'kind'>): AgentKind {
  return agent.kind ?? 'websocket'
}

export function upstreamStateTone(state: UpstreamState): StatusTone {
  if (state === 'up') return 'ok'
  if (state === 'down') return 'error'
  return 'warn'
}

export interface DescribedCapability {
  name: string
  title: string | undefined
  description: string | undefined
}

/**
 * An agent's capabilities with the title and description its instances gave (the first instance that
 * described one wins), in the agent's order.
 */
export function describedCapabilities(agent: AgentSummary): DescribedCapability[] {
  return agent.capabilities.map((name) => {
    const info = agent.instances
      .map((instance) => instance.capabilityInfo?.[name])
      .find((x) => x !== undefined)
    return { name, title: info?.title, description: info?.description }
  })
}

/** `12.5%` of the calls that ended in an error; `—` before the first call. */
export function errorRate(calls: number, errors: number): string {
  if (calls === 0) return '—'
  const percent = (errors / calls) * 100
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`
}

/** The A2A tasks a conversation's rows name: each `a2a` row's correlation id (the task) and target (the agent). */
export function a2aTaskRefs(events: readonly AuditEvent[]): { taskId: string; agentId: string }[] {
  const seen = new Map<string, { taskId: string; agentId: string }>()
  for (const event of events) {
    const taskId = event.correlationId
    if (event.kind !== 'a2a' || taskId === null || taskId === undefined || event.target === null) continue
    const key = `${event.target}\u0000${taskId}`
    if (!seen.has(key)) seen.set(key, { taskId, agentId: event.target })
  }
  return [...seen.values()]
}

/** Card URLs typed one per line (or separated by spaces or commas); each once, in order. */
export function parseUrls(text: string): string[] {
  const urls = text
    .split(/[\s,]+/)
    .map((url) => url.trim())
    .filter((url) => url !== '')
  return [...new Set(urls)]
}

function bearer(token: string): { credentials?: UpstreamCredentials } {
  // The token is sent as typed (a space may belong to it); only an empty field means "none".
  return token === '' ? {} : { credentials: { type: 'bearer', token } }
}

export interface A2aAgentForm {
  urls: string
  agentId: string
  token: string
}

/** The "Add A2A agent" form as an `AddA2aAgentRequest` body, or a message naming each wrong field. */
export function a2aAgentFormToRequest(form: A2aAgentForm): FormResult<AddA2aAgentRequest> {
  const agentId = form.agentId.trim()
  return validated(
    AddA2aAgentRequest,
    { ...(agentId === '' ? {} : { agentId }), urls: parseUrls(form.urls), ...bearer(form.token) },
    {
      agentId: 'agent id: letters, digits and _ - . : @ (up to 128)',
      urls: 'card URLs: 1 to 16 http(s) URLs, one per line',
      credentials: 'bearer token: up to 8,192 characters',
    },
  )
}

export interface McpServerForm {
  name: string
  url: string
  token: string
}

/** The "Add MCP server" form as an `AddMcpServerRequest` body, or a message naming each wrong field. */
export function mcpServerFormToRequest(form: McpServerForm): FormResult<AddMcpServerRequest> {
  return validated(
    AddMcpServerRequest,
    { name: form.name.trim(), url: form.url.trim(), ...bearer(form.token) },
    {
      name: 'name: 1 to 32 lower-case letters, digits and -, starting with a letter or digit',
      url: 'URL: an http(s) URL of the server’s Streamable HTTP endpoint',
      credentials: 'bearer token: up to 8,192 characters',
    },
  )
}

/** Finished well, finished badly, waiting on someone, or still going. */
export function taskStateTone(state: A2aTaskState): StatusTone {
  if (state === 'completed') return 'ok'
  if (state === 'failed' || state === 'rejected') return 'error'
  if (state === 'input-required' || state === 'auth-required') return 'warn'
  return 'neutral'
}
