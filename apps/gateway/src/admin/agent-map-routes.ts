import { AGENT_MAP_WINDOW_MS, type AgentSummary } from '@parley/protocol'
import type { AuditLog } from '@parley/stores'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { agentIndex, foldAgentMap } from './agent-map.js'

/** Registration rows read to name the agents of client ids that are no longer connected. */
const REGISTRATIONS_READ = 500

/**
 * `GET /api/admin/agent-map?window=5m|1h|24h`: who talked to whom in the window, counted from the audit rows
 * (one GROUP BY on the shared audit table, so every node's traffic is in it and a restart loses nothing).
 */
export function registerAgentMapRoutes(
  app: GatewayApp,
  deps: { audit: () => AuditLog; agents: () => Promise<AgentSummary[]>; now?: () => number },
): void {
  mountAdminRoutes(app, {
    agentMap: async (_c, request) => {
      const { window } = request.query()
      const audit = deps.audit()
      // Rows are written in batches; flushing first shows what just happened.
      await audit.flush()
      const until = new Date((deps.now ?? Date.now)())
      const since = new Date(until.getTime() - AGENT_MAP_WINDOW_MS[window])
      const [counts, summaries, registrations] = await Promise.all([
        audit.edges?.({ since, until: new Date(until.getTime() + 1) }) ?? Promise.resolve([]),
        deps.agents(),
        audit.query({ kind: 'agent', limit: REGISTRATIONS_READ }),
      ])
      const registered = registrations.events.filter((row) => row.outcome === 'ok')
      return foldAgentMap(counts, agentIndex(summaries, registered), { window, since, until })
    },
  })
}
