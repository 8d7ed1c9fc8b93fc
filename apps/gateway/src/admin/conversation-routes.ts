import type { AuditLog } from '@parley/stores'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/**
 * `GET /api/admin/conversations?a=…&b=…`: the audit rows between two parties (agent ids, client ids or
 * principals) in either direction, oldest first; `nextCursor` continues forward.
 */
export function registerConversationRoutes(app: GatewayApp, deps: { audit: () => AuditLog }): void {
  mountAdminRoutes(app, {
    conversation: async (_c, request) => {
      const { a, b, since, cursor, limit } = request.query()
      const audit = deps.audit()
      // Rows are written in batches; flushing first shows what just happened.
      await audit.flush()
      const page = await audit.conversation({
        a,
        b,
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(since === undefined ? {} : { since: new Date(since) }),
      })
      return { a, b, events: page.events, nextCursor: page.nextCursor }
    },
  })
}
