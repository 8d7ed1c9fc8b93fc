import type { GrantInfo, GrantList } from '@parley/protocol'
import type { GrantStore } from '@parley/stores'
import { grantInfo } from '../agents/access.js'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'

export interface GrantRouteDeps {
  grants: () => GrantStore
  /** Revokes on every node (both parties get `grant_revoked`); undefined for an unknown id. */
  revoke: (id: string, by: string) => Promise<GrantInfo | undefined>
}

/**
 * Accepted introductions: `GET /api/admin/grants` (live ones, newest first; `?all=true` adds revoked ones)
 * and `DELETE /api/admin/grants/:id` (revokes; repeating it answers the same revoked grant).
 */
export function registerGrantRoutes(app: GatewayApp, deps: GrantRouteDeps): void {
  app.get('/api/admin/grants', async (c) => {
    const all = c.req.query('all')
    if (all !== undefined && all !== 'true' && all !== 'false') {
      throw new GatewayError('bad_request', 'invalid grants query: all must be true or false')
    }
    const grants = await deps.grants().list({ includeRevoked: all === 'true' })
    const body: GrantList = { grants: grants.map(grantInfo) }
    return c.json(body)
  })

  app.delete('/api/admin/grants/:id', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `grant revoke ${id}`)
    const revoked = await deps.revoke(id, c.get('principal').id)
    if (revoked === undefined) throw new GatewayError('not_found', `no grant ${id}`)
    const body: GrantInfo = revoked
    return c.json(body)
  })
}
