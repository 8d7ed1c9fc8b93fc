import { type AuditPage, AuditQuery } from '@parley/protocol'
import type { AuditLog } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'

/** `GET /api/admin/audit`: one page of audit rows, newest first, filtered by the protocol's `AuditQuery`. */
export function registerAuditRoutes(app: GatewayApp, deps: { audit: () => AuditLog }): void {
  app.get('/api/admin/audit', async (c) => {
    const parsed = AuditQuery.safeParse(c.req.query())
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`,
      )
      throw new GatewayError('bad_request', `invalid audit query: ${problems.join('; ')}`)
    }
    const { since, until, ...rest } = parsed.data
    const audit = deps.audit()
    // Rows are written in batches; flushing first lets an operator see what just happened.
    await audit.flush()
    // A bad cursor makes the store throw InvalidCursorError, which the app's error handler answers with 400.
    const page: AuditPage = await audit.query({
      ...rest,
      ...(since === undefined ? {} : { since: new Date(since) }),
      ...(until === undefined ? {} : { until: new Date(until) }),
    })
    return c.json(page)
  })
}
