/**
 * What a tool of an upstream MCP server answers (`AgentCaller.callTool`): the MCP `CallToolResult`, typed only as
 * far as Parley relies on it, so the SDK needs no MCP library. See the MCP specification for the content kinds.
 */
export interface McpContentBlock {
  /** `text`, `image`, `audio`, `resource_link`, `resource`. */
  type: string
  [field: string]: unknown
}

export interface McpCallToolResult {
  content: McpContentBlock[]
  /** The structured answer, when the tool declares an output schema. */
  structuredContent?: Record<string, unknown>
  /** The tool itself failed (its `content` says why); a result like any other, not a rejection. */
  isError?: boolean
  [field: string]: unknown
}
