import type { GrantInfo } from '@parley/protocol'
import type { GrantStore } from '@parley/stores'
import { grantInfo } from '../agents/access.js'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

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
  mountAdminRoutes(app, {
    grants: async (_c, request) => {
      const { all } = request.query()
      const grants = await deps.grants().list({ includeRevoked: all === 'true' })
      return { grants: grants.map(grantInfo) }
    },
    revokeGrant: async (c, { params: { id } }) => {
      c.set('adminAction', `grant revoke ${id}`)
      const revoked = await deps.revoke(id, c.get('principal').id)
      if (revoked === undefined) throw new GatewayError('not_found', `no grant ${id}`)
      return revoked
    },
  })
}
