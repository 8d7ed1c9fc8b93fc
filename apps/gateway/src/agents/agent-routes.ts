import { type AgentList, AgentListQuery, type AgentSummary } from '@parley/protocol'
import { mountAdminRoutes } from '../admin/admin-routes.js'
import type { Authenticate } from '../auth/authenticator.js'
import { GatewayError } from '../errors.js'
import { httpAuthRequest, refusedResponse } from '../http/bearer-auth.js'
import type { ClientAddressResolver } from '../http/client-address.js'
import type { GatewayApp } from '../http/create-app.js'
import type { AccessParty } from './types.js'

export interface AgentRoutesDeps {
  /** Checks the bearer credential like a connection's (any role). */
  authenticate: Authenticate
  clientAddress: ClientAddressResolver
  /** The agents the caller may `request`. */
  listFor: (caller: AccessParty, capability?: string) => Promise<AgentSummary[]>
  /** Every agent, inactive ones included. */
  listAll: (capability?: string) => Promise<AgentSummary[]>
  /** The A2A card URL of an agent, from the URL the admin call came to (the public base URL wins). */
  cardUrl?: (requestUrl: string, agentId: string) => string
}

function capabilityOf(query: Record<string, string>): string | undefined {
  const parsed = AgentListQuery.safeParse(query)
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`,
    )
    throw new GatewayError('bad_request', `invalid agent query: ${problems.join('; ')}`)
  }
  return parsed.data.capability
}

/**
 * `GET /agents`: the agents the caller may reach (any valid credential, filtered by access), and
 * `GET /api/admin/agents`: every agent, inactive ones included (behind the admin guard).
 */
export function registerAgentRoutes(app: GatewayApp, deps: AgentRoutesDeps): void {
  app.get('/agents', async (c) => {
    const outcome = await deps.authenticate(httpAuthRequest(c, deps.clientAddress), { surface: 'agents api' })
    if (!outcome.ok) return refusedResponse(c, outcome, 'parley')
    const capability = capabilityOf(c.req.query())
    const body: AgentList = {
      agents: await deps.listFor(
        { principal: outcome.principal.id, role: outcome.principal.role },
        capability,
      ),
    }
    return c.json(body)
  })

  mountAdminRoutes(app, {
    agents: async (c, request) => {
      const agents = await deps.listAll(request.query().capability)
      const { cardUrl } = deps
      if (cardUrl === undefined) return { agents }
      return {
        agents: agents.map((agent) => ({
          ...agent,
          cardUrl: agent.cardUrl ?? cardUrl(c.req.url, agent.agentId),
        })),
      }
    },
  })
}
