import type { DeadLetterQuery, PurgeResult } from '@parley/protocol'
import type { DeliveryStore, StoredDelivery } from '@parley/stores'
import type { Context } from 'hono'
import { GatewayError } from '../errors.js'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

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
  mountAdminRoutes(app, {
    deadLetters: (_c, request) => {
      const { cursor, ...query } = request.query()
      // A bad cursor makes the store throw InvalidCursorError, which the app's error handler answers with 400.
      return deps.deliveries().listDeadLetters({ ...query, ...(cursor === undefined ? {} : { cursor }) })
    },
    deadLetter: async (_c, { params: { id } }) => {
      const deadLetter = await deps.deliveries().getDeadLetter(id)
      if (deadLetter === undefined) throw notFound(id)
      return deadLetter
    },
    requeueDeadLetter: async (c, { params: { id } }) => {
      const requeued = await deps.requeue(id)
      if (requeued === undefined) throw notFound(id)
      c.set('adminAction', `dlq requeue ${id}`)
      return { id: requeued.id, requeued: true }
    },
    purgeDeadLetter: async (c, { params: { id } }) => {
      const purged = await deps.deliveries().purgeDeadLetters({ id })
      c.set('adminAction', `dlq purge ${id}: ${purged} purged`)
      return { purged }
    },
    purgeDeadLetters: (c, request) => purgeByFilter(c, request.query()),
  })

  async function purgeByFilter(
    c: Context<GatewayEnv>,
    { recipient, channel, kind }: DeadLetterQuery,
  ): Promise<PurgeResult> {
    const filter = {
      ...(recipient === undefined ? {} : { recipient }),
      ...(channel === undefined ? {} : { channel }),
      ...(kind === undefined ? {} : { kind }),
    }
    const body: PurgeResult = { purged: await deps.deliveries().purgeDeadLetters(filter) }
    const named = Object.entries(filter).map(([key, value]) => `${key}=${value}`)
    c.set('adminAction', `dlq purge ${named.join(' ') || 'all'}: ${body.purged} purged`)
    return body
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `no dead letter ${id}`)
}
