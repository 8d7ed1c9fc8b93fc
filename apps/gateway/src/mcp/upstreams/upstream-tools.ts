import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import {
  type CapabilityInfo,
  type CapabilitySpec,
  mcpToolCapability,
  mcpUpstreamToolName,
} from '@parley/protocol'
import { capabilitySchemaProblem } from '../../agents/capability-schemas.js'

/** One tool of an upstream server as Parley publishes it. */
export interface UpstreamTool {
  /** `mcp:{server}__{escaped tool}`: what callers route by and policies match. */
  capability: string
  /** `{server}__{escaped tool}`: the name `/mcp` lists. */
  listedName: string
  /** The upstream's own name, used when calling it. */
  toolName: string
  description: string | undefined
  spec: Extract<CapabilitySpec, { name: string }>
}

const MAX_TITLE = 1_000
const MAX_DESCRIPTION = 4_000
const MAX_SCHEMA_BYTES = 65_536

function clip(text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return undefined
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`
}

/**
 * A tool's JSON Schema as the gateway checks arguments with it (JSON Schema 2020-12), or undefined when it
 * cannot be used (too large, does not compile): the upstream still checks its own arguments then. Many servers
 * (the SDK's `McpServer` among them) declare draft-07 in `$schema`; the keywords they use mean the same in
 * 2020-12, so the declaration is dropped rather than the schema.
 */
function usableSchema(schema: unknown): Record<string, unknown> | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined
  const { $schema, ...rest } = schema as Record<string, unknown>
  const candidate =
    typeof $schema === 'string' && !$schema.includes('2020-12') ? rest : (schema as Record<string, unknown>)
  if (JSON.stringify(candidate).length > MAX_SCHEMA_BYTES) return undefined
  return capabilitySchemaProblem({ schema: { inputSchema: candidate } }) === undefined ? candidate : undefined
}

export interface UpstreamToolsResult {
  tools: UpstreamTool[]
  /** Tools left out, with why (a duplicate name). */
  skipped: string[]
}

/** The tools of `server` as capabilities; the first of two tools with one name wins. */
export function upstreamTools(server: string, listed: readonly Tool[]): UpstreamToolsResult {
  const tools: UpstreamTool[] = []
  const skipped: string[] = []
  const seen = new Set<string>()
  for (const tool of listed) {
    const capability = mcpToolCapability(server, tool.name)
    if (tool.name === '' || seen.has(capability)) {
      skipped.push(
        `tool ${JSON.stringify(tool.name.slice(0, 100))}: ${tool.name === '' ? 'no name' : 'listed twice'}`,
      )
      continue
    }
    seen.add(capability)
    const info: CapabilityInfo = {}
    const title = clip(tool.title ?? tool.annotations?.title, MAX_TITLE)
    const description = clip(tool.description, MAX_DESCRIPTION)
    const inputSchema = usableSchema(tool.inputSchema)
    const outputSchema = usableSchema(tool.outputSchema)
    if (title !== undefined) info.title = title
    if (description !== undefined) info.description = description
    if (inputSchema !== undefined) info.inputSchema = inputSchema
    if (outputSchema !== undefined) info.outputSchema = outputSchema
    tools.push({
      capability,
      listedName: mcpUpstreamToolName(server, tool.name),
      toolName: tool.name,
      description,
      spec: { name: capability, ...info },
    })
  }
  return { tools, skipped }
}
