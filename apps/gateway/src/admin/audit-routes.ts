import type { AuditLog } from '@parley/stores'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** `GET /api/admin/audit`: one page of audit rows, newest first, filtered by the protocol's `AuditQuery`. */
export function registerAuditRoutes(app: GatewayApp, deps: { audit: () => AuditLog }): void {
  mountAdminRoutes(app, {
    audit: async (_c, request) => {
      const { since, until, ...rest } = request.query()
      const audit = deps.audit()
      // Rows are written in batches; flushing first lets an operator see what just happened.
      await audit.flush()
      // A bad cursor makes the store throw InvalidCursorError, which the app's error handler answers with 400.
      return audit.query({
        ...rest,
        ...(since === undefined ? {} : { since: new Date(since) }),
        ...(until === undefined ? {} : { until: new Date(until) }),
      })
    },
  })
}
