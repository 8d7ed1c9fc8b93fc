import type { DashboardSessionInfo } from '@parley/protocol'
import type { DashboardSessionRecord, DashboardSessionStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { ClientAddressResolver } from '../http/client-address.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

export interface SessionRouteDeps {
  sessions: () => DashboardSessionStore
  clientAddress: ClientAddressResolver
  /** Milliseconds a session lasts (it ends sooner when the credential it was opened with does). */
  ttlMs: number
  now?: () => number
}

/**
 * Dashboard sessions, behind the admin guard. `POST /api/admin/sessions` opens one with an admin credential
 * (the login form's token; not with a session, so a stolen session cannot extend itself) and answers its
 * secret once; `GET` lists the live ones; `DELETE /api/admin/sessions/current` ends the caller's (logout),
 * `DELETE /api/admin/sessions/:id` one, and `DELETE /api/admin/sessions` all ("log out everywhere").
 */
export function registerSessionRoutes(app: GatewayApp, deps: SessionRouteDeps): void {
  const now = deps.now ?? Date.now

  mountAdminRoutes(app, {
    openSession: async (c, input) => {
      const credential = c.get('adminCredential')
      if (credential.dashboardSessionId !== undefined) {
        throw new GatewayError(
          'forbidden',
          'a dashboard session cannot open another: log in with an admin token',
        )
      }
      const request = await input.body()
      const openedAt = now()
      const store = deps.sessions()
      // Ended sessions are of no further use: drop them as new ones come, so the table stays small.
      await store.prune(openedAt)
      const created = await store.create(
        {
          principal: c.get('principal').id,
          credentialId: credential.tokenId ?? null,
          expiresAt: Math.min(openedAt + deps.ttlMs, credential.expiresAt ?? Number.POSITIVE_INFINITY),
          userAgent: request.userAgent ?? null,
          address: deps.clientAddress(c).address,
        },
        openedAt,
      )
      c.set('adminAction', `session open ${created.record.id}`)
      return { session: created.secret, info: sessionInfo(created.record, created.record.id) }
    },
    sessions: async (c) => {
      const current = c.get('adminCredential').dashboardSessionId
      const live = await deps.sessions().listLive(now())
      return { sessions: live.map((record) => sessionInfo(record, current)) }
    },
    endSession: async (c) => {
      const current = c.get('adminCredential').dashboardSessionId
      const revoked = current !== undefined && (await deps.sessions().revoke(current, now()))
      c.set('adminAction', `session logout ${current ?? '(not a session)'}`)
      return { revoked: revoked ? 1 : 0 }
    },
    revokeSession: async (c, { params: { id } }) => {
      if (!(await deps.sessions().revoke(id, now())))
        throw new GatewayError('not_found', `no live session ${id}`)
      c.set('adminAction', `session revoke ${id}`)
      return { revoked: 1 }
    },
    revokeAllSessions: async (c) => {
      const revoked = await deps.sessions().revokeAll(now())
      c.set('adminAction', `session revoke all (${revoked})`)
      return { revoked }
    },
  })
}

function iso(time: number): string {
  return new Date(time).toISOString()
}

function sessionInfo(record: DashboardSessionRecord, current: string | undefined): DashboardSessionInfo {
  return {
    id: record.id,
    principal: record.principal,
    createdAt: iso(record.createdAt),
    lastSeenAt: iso(record.lastSeenAt),
    expiresAt: iso(record.expiresAt),
    userAgent: record.userAgent,
    address: record.address,
    current: record.id === current,
  }
}
