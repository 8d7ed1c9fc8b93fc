import { type AgentCard, AgentCard as AgentCardJson, type AgentSkill } from '@a2a-js/sdk'
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server'
import { type A2ARequestHandler, ServerCallContext } from '@a2a-js/sdk/server'
import type { AgentSummary } from '@parley/protocol'
import { z } from 'zod'

/** The security scheme name the card declares: the gateway's bearer credential (API token or JWT). */
export const BEARER_SCHEME = 'bearer'
/** OpenID Connect discovery at the configured JWT issuer. */
export const OIDC_SCHEME = 'oidc'
/** OAuth2 client credentials at the configured token endpoint. */
export const OAUTH2_SCHEME = 'oauth2'

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
 * The older way an agent described a capability as an A2A skill, before `agent_register` carried
 * `CapabilityInfo`: `metadata.skills[capability]`, still read for SDKs that send it. A description that does not
 * fit is ignored: the skill gets the defaults.
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

/**
 * How the instances of an agent describe one capability. Instances may differ (a rolling upgrade): an active
 * instance's `capabilityInfo` wins over an inactive one's, the newest registration over older ones; an instance
 * that sent no `capabilityInfo` for it falls back to its `metadata.skills` entry.
 */
function describedSkill(summary: AgentSummary, capability: string): SkillDescription {
  const instances = [...summary.instances].sort(
    (a, b) => Number(b.status === 'active') - Number(a.status === 'active') || b.connectedAt - a.connectedAt,
  )
  for (const instance of instances) {
    const info = instance.capabilityInfo?.[capability]
    if (info !== undefined) {
      const { title, inputSchema: _input, outputSchema: _output, ...rest } = info
      return { ...rest, ...(title === undefined ? {} : { name: title }) }
    }
  }
  for (const instance of instances) {
    const parsed = SkillDescription.safeParse(
      (instance.metadata.skills as Record<string, unknown> | undefined)?.[capability],
    )
    if (parsed.success) return parsed.data
  }
  return {}
}

function skillOf(capability: string, skill: SkillDescription): AgentSkill {
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

/** How callers may authenticate, as the card declares it (see `cardSecurity`). */
export interface CardSecurity {
  securitySchemes: AgentCard['securitySchemes']
  securityRequirements: AgentCard['securityRequirements']
}

/** The gateway's bearer credential alone: an API token, a device token or a JWT. */
export const BEARER_ONLY: CardSecurity = cardSecurity({})

/**
 * The security schemes matching how the gateway authenticates: the bearer credential always; with a JWT
 * issuer that is an http(s) URL, OpenID Connect discovery at the issuer (where a client finds how to get a
 * token); with a configured token endpoint too, OAuth2 client credentials at it. Any one scheme is enough:
 * each is its own requirement.
 */
export function cardSecurity(options: { jwtIssuer?: string; oauthTokenUrl?: string }): CardSecurity {
  const securitySchemes: AgentCard['securitySchemes'] = {
    [BEARER_SCHEME]: {
      scheme: {
        $case: 'httpAuthSecurityScheme',
        value: { scheme: 'Bearer', bearerFormat: '', description: 'A Parley API token or JWT' },
      },
    },
  }
  const issuer = options.jwtIssuer
  if (issuer !== undefined && /^https?:\/\//.test(issuer)) {
    securitySchemes[OIDC_SCHEME] = {
      scheme: {
        $case: 'openIdConnectSecurityScheme',
        value: {
          description: `A JWT from ${issuer}`,
          openIdConnectUrl: `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
        },
      },
    }
    if (options.oauthTokenUrl !== undefined)
      securitySchemes[OAUTH2_SCHEME] = {
        scheme: {
          $case: 'oauth2SecurityScheme',
          value: {
            description: `A JWT from ${issuer}, by the client credentials grant`,
            flows: {
              flow: {
                $case: 'clientCredentials',
                value: { tokenUrl: options.oauthTokenUrl, refreshUrl: '', scopes: {} },
              },
            },
            oauth2MetadataUrl: '',
          },
        },
      }
  }
  return {
    securitySchemes,
    securityRequirements: Object.keys(securitySchemes).map((name) => ({ schemes: { [name]: { list: [] } } })),
  }
}

/**
 * The A2A card of a registered agent, built live from the registry: its capabilities as skills (described by
 * the instances' `capabilityInfo`, else `metadata.skills`), this gateway's JSON-RPC URL for v1.0 and v0.3
 * callers and its HTTP+JSON URL for v1.0, streaming, and how callers authenticate. An agent that is known but
 * not connected keeps its card; its description says it is not connected.
 */
export function buildAgentCard(
  summary: AgentSummary,
  baseUrl: string,
  gatewayVersion: string,
  security: CardSecurity = BEARER_ONLY,
): AgentCard {
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
    securitySchemes: security.securitySchemes,
    securityRequirements: security.securityRequirements,
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: summary.capabilities.map((capability) =>
      skillOf(capability, describedSkill(summary, capability)),
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
