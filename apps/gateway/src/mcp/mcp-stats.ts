import { Counter, type Registry } from 'prom-client'

/** How a tool call ended: its result, an agent error (`isError`), or a gateway refusal (a JSON-RPC error). */
export type CallResultKind = 'ok' | 'tool_error' | 'refused'

/** The tool's counts since this node started. */
export interface ToolCounts {
  calls: number
  errors: number
}

/** Bounds the per-tool map: tool names come from agents, which come and go. */
const MAX_TOOLS_COUNTED = 10_000

/**
 * This node's `tools/call` counts per tool (the admin tool listing) and the Prometheus counter
 * `parley_mcp_tool_calls_total{tool,outcome}`.
 */
export function createMcpStats(registry: Registry | undefined) {
  const counts = new Map<string, ToolCounts>()
  const counter =
    registry === undefined
      ? undefined
      : new Counter({
          name: 'parley_mcp_tool_calls_total',
          help: 'MCP tools/call requests on /mcp by tool and outcome (ok, tool_error, refused).',
          labelNames: ['tool', 'outcome'],
          registers: [registry],
        })
  return {
    called(tool: string, outcome: CallResultKind): void {
      let entry = counts.get(tool)
      if (entry === undefined) {
        if (counts.size >= MAX_TOOLS_COUNTED) counts.delete(counts.keys().next().value as string)
        entry = { calls: 0, errors: 0 }
        counts.set(tool, entry)
      }
      entry.calls += 1
      if (outcome !== 'ok') entry.errors += 1
      counter?.inc({ tool, outcome })
    },
    countsOf(tool: string): ToolCounts {
      return { ...(counts.get(tool) ?? { calls: 0, errors: 0 }) }
    },
  }
}

export type McpStats = ReturnType<typeof createMcpStats>
