import type { AuditLog } from '@parley/stores'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { conversationParty } from './conversation-parties.js'

/**
 * `GET /api/admin/conversations?a=…&b=…`: the audit rows between two parties (agent ids, client ids or
 * principals) in either direction. An agent stands for all its instances, whatever their client ids, so a
 * reply from a second instance is part of the conversation. `order=oldest` (the default) pages forward,
 * `order=newest` opens at the latest rows and pages back.
 */
export function registerConversationRoutes(app: GatewayApp, deps: { audit: () => AuditLog }): void {
  mountAdminRoutes(app, {
    conversation: async (_c, request) => {
      const { a, b, since, order, cursor, limit } = request.query()
      const audit = deps.audit()
      // Rows are written in batches; flushing first shows what just happened.
      await audit.flush()
      const parties = { a: await conversationParty(audit, a), b: await conversationParty(audit, b) }
      const page = await audit.conversation({
        a: parties.a,
        b: parties.b,
        order,
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(since === undefined ? {} : { since: new Date(since) }),
      })
      return { a, b, parties, events: page.events, nextCursor: page.nextCursor }
    },
  })
}
