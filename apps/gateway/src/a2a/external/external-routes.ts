import { AgentId } from '@parley/protocol'
import { redactUrl } from '@parley/stores'
import { mountAdminRoutes } from '../../admin/admin-routes.js'
import { GatewayError } from '../../errors.js'
import type { GatewayApp } from '../../http/create-app.js'
import type { ExternalAgents } from './external-agents.js'

/**
 * External A2A agents (admin): `GET /api/admin/a2a/agents`, `POST` (register by card or base URLs),
 * `DELETE /api/admin/a2a/agents/:agentId` and `POST /api/admin/a2a/agents/:agentId/refresh`. Credentials go in
 * and never come out: answers name their kind only, and the audit row (the admin action) names the agent and URLs.
 * An agent whose card cannot be fetched is still registered: its instances answer `down` with `lastError`, and a
 * later refresh brings them up.
 */
export function registerExternalA2aRoutes(app: GatewayApp, deps: { external: ExternalAgents }): void {
  const agentIdOf = (raw: string): string => {
    const parsed = AgentId.safeParse(raw)
    if (!parsed.success)
      throw new GatewayError('bad_request', `invalid agent id: ${parsed.error.issues[0]?.message}`)
    return parsed.data
  }

  mountAdminRoutes(app, {
    a2aAgents: () => ({ agents: deps.external.list() }),
    addA2aAgent: async (c, input) => {
      const request = await input.body()
      // A URL that (wrongly) carries a password is refused below; its password never reaches the audit.
      const urls = request.urls.map(redactUrl).join(' ')
      c.set('adminAction', `a2a agent add ${request.agentId ?? '(named by its card)'} ${urls}`)
      const added = await deps.external.add(request)
      c.set('adminAction', `a2a agent add ${added.agentId} ${urls} credentials=${added.credentials}`)
      return added
    },
    removeA2aAgent: async (c, { params }) => {
      const agentId = agentIdOf(params.agentId)
      c.set('adminAction', `a2a agent remove ${agentId}`)
      if (!(await deps.external.remove(agentId)))
        throw new GatewayError('not_found', `no external A2A agent ${agentId}`)
    },
    refreshA2aAgent: async (c, { params }) => {
      const agentId = agentIdOf(params.agentId)
      c.set('adminAction', `a2a agent refresh ${agentId}`)
      const refreshed = await deps.external.refresh(agentId)
      if (refreshed === undefined) throw new GatewayError('not_found', `no external A2A agent ${agentId}`)
      return refreshed
    },
  })
}
