import { type AgentCard, AgentCard as AgentCardJson, type AgentSkill } from '@a2a-js/sdk'
import type { AgentSummary } from '@parley/protocol'

/** The security scheme name the card declares: the gateway's bearer credential (API token or JWT). */
export const BEARER_SCHEME = 'bearer'

/** Where an agent's A2A face lives under the gateway's public base URL. */
export function a2aAgentUrl(baseUrl: string, agentId: string): string {
  return `${baseUrl}/a2a/${encodeURIComponent(agentId)}`
}

export function a2aCardUrl(baseUrl: string, agentId: string): string {
  return `${a2aAgentUrl(baseUrl, agentId)}/.well-known/agent-card.json`
}

function textOf(metadata: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = metadata?.[key]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

function skillOf(capability: string): AgentSkill {
  return {
    id: capability,
    name: capability,
    description: `Parley capability ${capability}`,
    tags: [capability],
    examples: [],
    inputModes: [],
    outputModes: [],
    securityRequirements: [],
  }
}

/**
 * The A2A card of a registered agent, built live from the registry: its capabilities as skills, this
 * gateway's JSON-RPC URL for v1.0 and v0.3 callers and its HTTP+JSON URL for v1.0, streaming, and the bearer credential. An agent that is
 * known but not connected keeps its card; its description says it is not connected.
 */
export function buildAgentCard(summary: AgentSummary, baseUrl: string, gatewayVersion: string): AgentCard {
  const metadata = summary.instances[0]?.metadata
  const url = a2aAgentUrl(baseUrl, summary.agentId)
  const description = textOf(metadata, 'description') ?? `Parley agent ${summary.agentId}`
  return {
    name: textOf(metadata, 'name') ?? summary.agentId,
    description: summary.status === 'active' ? description : `${description} (not connected)`,
    version: textOf(metadata, 'version') ?? gatewayVersion,
    provider: { organization: 'Parley gateway', url: baseUrl },
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
      { url, protocolBinding: 'JSONRPC', protocolVersion: '0.3', tenant: '' },
      { url, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0', tenant: '' },
    ],
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {
      [BEARER_SCHEME]: {
        scheme: {
          $case: 'httpAuthSecurityScheme',
          value: { scheme: 'Bearer', bearerFormat: '', description: 'A Parley API token or JWT' },
        },
      },
    },
    securityRequirements: [{ schemes: { [BEARER_SCHEME]: { list: [] } } }],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: summary.capabilities.map(skillOf),
    signatures: [],
  }
}

/** The card as served: the protobuf JSON form (camelCase) that the SDK's card resolver reads. */
export function agentCardJson(card: AgentCard): unknown {
  return AgentCardJson.toJSON(card)
}
