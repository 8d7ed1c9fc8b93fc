import { type ConversationPage, ConversationQuery } from '@parley/protocol'
import type { AuditLog } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'

/**
 * `GET /api/admin/conversations?a=…&b=…`: the audit rows between two parties (agent ids, client ids or
 * principals) in either direction, oldest first; `nextCursor` continues forward.
 */
export function registerConversationRoutes(app: GatewayApp, deps: { audit: () => AuditLog }): void {
  app.get('/api/admin/conversations', async (c) => {
    const parsed = ConversationQuery.safeParse(c.req.query())
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`,
      )
      throw new GatewayError('bad_request', `invalid conversation query: ${problems.join('; ')}`)
    }
    const { a, b, since, cursor, limit } = parsed.data
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
    const body: ConversationPage = { a, b, events: page.events, nextCursor: page.nextCursor }
    return c.json(body)
  })
}
