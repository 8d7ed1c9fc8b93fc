// The capabilities an `agent_register` frame declares: their names, descriptions and reserved prefixes.
import type { AgentRegisterFrame, CapabilityInfo } from '@parley/protocol'
import { MCP_UPSTREAM_CAPABILITY_PREFIX } from '@parley/protocol'

/**
 * Why a connection may not register these capabilities: `mcp:…` names the tools of upstream MCP servers, which
 * only the gateway hosts (an agent claiming one would receive calls meant for the server).
 */
export function reservedCapabilityProblem(specs: AgentRegisterFrame['capabilities']): string | undefined {
  const reserved = capabilityNames(specs).find((name) => name.startsWith(MCP_UPSTREAM_CAPABILITY_PREFIX))
  if (reserved === undefined) return undefined
  return `capability ${reserved}: capabilities starting with ${MCP_UPSTREAM_CAPABILITY_PREFIX} are the tools of upstream MCP servers, hosted by the gateway`
}

/** The names of the capabilities of a registration, each once, in order. */
export function capabilityNames(specs: AgentRegisterFrame['capabilities']): string[] {
  return [...new Set(specs.map((spec) => (typeof spec === 'string' ? spec : spec.name)))]
}

/** The descriptions a registration gives of its capabilities, by name (the last one of a name wins). */
export function capabilityInfoOf(specs: AgentRegisterFrame['capabilities']): Record<string, CapabilityInfo> {
  const info: Record<string, CapabilityInfo> = {}
  for (const spec of specs) {
    if (typeof spec === 'string') continue
    const { name, ...described } = spec
    info[name] = described
  }
  return info
}
