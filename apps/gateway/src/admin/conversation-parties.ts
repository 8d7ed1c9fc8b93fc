import type { AuditEvent } from '@parley/protocol'
import type { AuditLog } from '@parley/stores'

/** Registration rows read per look-up: an agent that re-registered more often than this loses its oldest clients. */
const REGISTRATIONS_READ = 500

/**
 * Every name one side of a conversation goes by. The audit ties a client to an agent id with the `agent` rows
 * `agent_register` writes (client id in `clientId`, agent id in `target`): a name that is an agent id brings
 * the client ids of all its instances, and a name that is one instance's client id brings its agent id and so
 * the other instances. A name no registration mentions stands for itself (a plain client, a principal).
 */
export async function conversationParty(audit: AuditLog, name: string): Promise<string[]> {
  const agentIds = new Set([name])
  for (const row of await registrations(audit)) {
    if (row.clientId === name && row.target !== null) agentIds.add(row.target)
  }
  const names = new Set(agentIds)
  for (const agentId of agentIds) {
    for (const row of await registrations(audit, agentId)) {
      if (row.clientId !== null) names.add(row.clientId)
    }
  }
  return [...names]
}

/** The latest successful `agent` rows (of one agent id, when given). */
async function registrations(audit: AuditLog, agentId?: string): Promise<AuditEvent[]> {
  const page = await audit.query({
    kind: 'agent',
    limit: REGISTRATIONS_READ,
    ...(agentId === undefined ? {} : { target: agentId }),
  })
  return page.events.filter((row) => row.outcome === 'ok')
}
