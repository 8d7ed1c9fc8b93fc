import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import type { AgentSummary, CapabilityInfo } from '@parley/protocol'
import { toolName, upstreamToolOf } from './tool-names.js'

/** One tool `/mcp` publishes: an agent's capability, or an upstream MCP server's tool. */
export interface McpTool {
  /** The MCP tool name (tool-names.ts). */
  name: string
  /** The agent that serves it (for an upstream tool: the instance the upstream registered). */
  agentId: string
  /** The capability the call is routed by. */
  capability: string
  /** `upstream`: the answer is a `CallToolResult` already; `agent`: the answer's data is wrapped. */
  origin: 'upstream' | 'agent'
  /** The MCP server (upstream) or the agent id. */
  owner: string
  /** The upstream tool's own name, or the capability. */
  source: string
  info: CapabilityInfo | undefined
  /**
   * MCP arguments are an object: a capability whose input schema is not an object schema takes its input as the
   * `input` argument.
   */
  wrapsInput: boolean
  /** The definition `tools/list` answers. */
  definition: Tool
}

const ANY_OBJECT = { type: 'object' } as const

/** The server's own name of an upstream tool (its instance's `mcpTool`), else its escaped name. */
function upstreamToolName(metadata: Record<string, unknown>, escaped: string): string {
  return typeof metadata.mcpTool === 'string' ? metadata.mcpTool : escaped
}

function isObjectSchema(schema: Record<string, unknown>): boolean {
  return schema.type === 'object'
}

function describeTool(name: string, info: CapabilityInfo | undefined, wrapsInput: boolean): Tool {
  const inputSchema = info?.inputSchema
  const definition: Tool = {
    name,
    inputSchema: (inputSchema === undefined
      ? ANY_OBJECT
      : wrapsInput
        ? { type: 'object', properties: { input: inputSchema }, required: ['input'] }
        : inputSchema) as Tool['inputSchema'],
  }
  if (info?.title !== undefined) definition.title = info.title
  if (info?.description !== undefined) definition.description = info.description
  // MCP output schemas describe `structuredContent`, which is an object: other schemas are not published.
  if (info?.outputSchema !== undefined && isObjectSchema(info.outputSchema))
    definition.outputSchema = info.outputSchema as Tool['outputSchema']
  return definition
}

const MCP_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/

/**
 * An upstream tool's capability holds its name escaped for MCP already (`mcpToolCapability` in the protocol):
 * `{server}__{escaped tool}` is listed as it is; anything else (not registered by the upstreams module) is
 * escaped here like an agent's.
 */
function upstreamName(upstream: { server: string; tool: string }): string {
  const name = `${upstream.server}__${upstream.tool}`
  return MCP_TOOL_NAME.test(name) ? name : toolName(upstream.server, upstream.tool)
}

/**
 * The tools of the active agents in `agents` (as `listFor` / `listAll` answer them), by name. An `mcp`-kind
 * instance's capability `mcp:{server}__{tool}` is the upstream tool `{server}__{tool}`; any other capability
 * is `{agentId}__{capability}`. Should an agent's tool name equal an upstream tool's (an agent id equal to a
 * server name), the upstream tool is published and the agent's is left out, so a name always means one tool.
 */
export function toolsOf(agents: readonly AgentSummary[]): Map<string, McpTool> {
  const tools = new Map<string, McpTool>()
  for (const agent of agents) {
    if (agent.status !== 'active') continue
    for (const instance of agent.instances) {
      if (instance.status !== 'active') continue
      for (const capability of instance.capabilities) {
        const info = instance.capabilityInfo?.[capability]
        const upstream = instance.kind === 'mcp' ? upstreamToolOf(capability) : undefined
        const name = upstream === undefined ? toolName(agent.agentId, capability) : upstreamName(upstream)
        const existing = tools.get(name)
        if (existing !== undefined && (existing.origin === 'upstream' || upstream === undefined)) continue
        const wrapsInput = info?.inputSchema !== undefined && !isObjectSchema(info.inputSchema)
        tools.set(name, {
          name,
          agentId: agent.agentId,
          capability,
          origin: upstream === undefined ? 'agent' : 'upstream',
          owner: upstream?.server ?? agent.agentId,
          source: upstream === undefined ? capability : upstreamToolName(instance.metadata, upstream.tool),
          info,
          wrapsInput,
          definition: describeTool(name, info, wrapsInput),
        })
      }
    }
  }
  return tools
}
