import { type AgentCard, AgentCard as AgentCardJson, type AgentSkill } from '@a2a-js/sdk'
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server'
import { type A2ARequestHandler, ServerCallContext } from '@a2a-js/sdk/server'
import type { AgentSummary } from '@parley/protocol'
import { z } from 'zod'

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

const ShortText = z.string().min(1).max(1_000)
const MediaType = z.string().min(1).max(200)

/**
 * How an agent describes one capability as an A2A skill, in its registration metadata
 * (`metadata.skills[capability]`). A description that does not fit is ignored: the skill gets the defaults.
 */
export const SkillDescription = z.object({
  name: ShortText.optional(),
  description: ShortText.optional(),
  tags: z.array(z.string().min(1).max(100)).max(20).optional(),
  examples: z.array(ShortText).max(20).optional(),
  inputModes: z.array(MediaType).max(20).optional(),
  outputModes: z.array(MediaType).max(20).optional(),
})
export type SkillDescription = z.infer<typeof SkillDescription>

function skillOf(capability: string, described: unknown): AgentSkill {
  const parsed = SkillDescription.safeParse(described)
  const skill = parsed.success ? parsed.data : {}
  return {
    id: capability,
    name: skill.name ?? capability,
    description: skill.description ?? `Parley capability ${capability}`,
    tags: skill.tags ?? [capability],
    examples: skill.examples ?? [],
    inputModes: skill.inputModes ?? [],
    outputModes: skill.outputModes ?? [],
    securityRequirements: [],
  }
}

/**
 * The A2A card of a registered agent, built live from the registry: its capabilities as skills (described by
 * `metadata.skills`), this gateway's JSON-RPC URL for v1.0 and v0.3 callers and its HTTP+JSON URL for v1.0,
 * streaming, and the bearer credential. An agent that is known but not connected keeps its card; its
 * description says it is not connected.
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
    capabilities: { streaming: true, pushNotifications: true, extensions: [], extendedAgentCard: false },
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
    skills: summary.capabilities.map((capability) =>
      skillOf(capability, (metadata?.skills as Record<string, unknown> | undefined)?.[capability]),
    ),
    signatures: [],
  }
}

/** The card as served: the protobuf JSON form (camelCase) that the SDK's card resolver reads. */
export function agentCardJson(card: AgentCard): unknown {
  return AgentCardJson.toJSON(card)
}

/**
 * The card in the v0.3 shape (`url`, `preferredTransport`, `protocolVersion: "0.3"`), for callers that fetch it
 * without `A2A-Version` (v0.3 clients). The SDK's own conversion does it: its v0.3 JSON-RPC handler answers
 * `agent/getAuthenticatedExtendedCard` with it, here over a handler that only knows this card.
 */
export async function legacyAgentCardJson(card: AgentCard): Promise<unknown> {
  const cardOnly = { getAuthenticatedExtendedAgentCard: async () => card } as unknown as A2ARequestHandler
  const answer = await new LegacyJsonRpcTransportHandler(cardOnly).handle(
    { jsonrpc: '2.0', id: 0, method: 'agent/getAuthenticatedExtendedCard' },
    new ServerCallContext(),
  )
  if ('error' in answer && answer.error !== undefined)
    throw new Error(`v0.3 card conversion failed: ${answer.error.message}`)
  return (answer as { result?: unknown }).result
}
