import {
  type DeadLetter,
  type DeadLetterPage,
  DeadLetterQuery,
  type PurgeResult,
  type RequeueResult,
} from '@parley/protocol'
import type { DeliveryStore, StoredDelivery } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'

export interface DeadLetterRouteDeps {
  deliveries: () => DeliveryStore
  /** Requeues through the delivery engine, which counts, audits and dispatches it. */
  requeue: (id: string) => Promise<StoredDelivery | undefined>
}

/**
 * The dead-letter queue: `GET /api/admin/dlq` (pages, newest first), `GET /api/admin/dlq/:id`,
 * `POST /api/admin/dlq/:id/requeue`, `DELETE /api/admin/dlq/:id` and `DELETE /api/admin/dlq` (by filter).
 */
export function registerDeadLetterRoutes(app: GatewayApp, deps: DeadLetterRouteDeps): void {
  app.get('/api/admin/dlq', async (c) => {
    const { cursor, ...query } = parseQuery(c.req.query())
    // A bad cursor makes the store throw InvalidCursorError, which the app's error handler answers with 400.
    const page: DeadLetterPage = await deps
      .deliveries()
      .listDeadLetters({ ...query, ...(cursor === undefined ? {} : { cursor }) })
    return c.json(page)
  })

  app.get('/api/admin/dlq/:id', async (c) => {
    const id = c.req.param('id')
    const deadLetter: DeadLetter | undefined = await deps.deliveries().getDeadLetter(id)
    if (deadLetter === undefined) throw notFound(id)
    return c.json(deadLetter)
  })

  app.post('/api/admin/dlq/:id/requeue', async (c) => {
    const id = c.req.param('id')
    const requeued = await deps.requeue(id)
    if (requeued === undefined) throw notFound(id)
    c.set('adminAction', `dlq requeue ${id}`)
    const body: RequeueResult = { id: requeued.id, requeued: true }
    return c.json(body)
  })

  app.delete('/api/admin/dlq/:id', async (c) => {
    const id = c.req.param('id')
    const body: PurgeResult = { purged: await deps.deliveries().purgeDeadLetters({ id }) }
    c.set('adminAction', `dlq purge ${id}: ${body.purged} purged`)
    return c.json(body)
  })

  app.delete('/api/admin/dlq', async (c) => {
    const { recipient, channel, kind } = parseQuery(c.req.query())
    const filter = {
      ...(recipient === undefined ? {} : { recipient }),
      ...(channel === undefined ? {} : { channel }),
      ...(kind === undefined ? {} : { kind }),
    }
    const body: PurgeResult = { purged: await deps.deliveries().purgeDeadLetters(filter) }
    const named = Object.entries(filter).map(([key, value]) => `${key}=${value}`)
    c.set('adminAction', `dlq purge ${named.join(' ') || 'all'}: ${body.purged} purged`)
    return c.json(body)
  })
}

function parseQuery(query: Record<string, string>): DeadLetterQuery {
  const parsed = DeadLetterQuery.safeParse(query)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`)
  throw new GatewayError('bad_request', `invalid dead-letter query: ${problems.join('; ')}`)
}

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `no dead letter ${id}`)
}
