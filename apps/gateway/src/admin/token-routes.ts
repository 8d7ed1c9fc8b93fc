import type { TokenInfo } from '@parley/protocol'
import type { TokenRecord, TokenStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { checkScopes } from './request-body.js'

export interface TokenRouteDeps {
  tokens: () => TokenStore
  /** Closes the open connections authenticated with the token; resolves how many. */
  revoked: (tokenId: string) => number
  /** Ends the dashboard sessions opened with the token; resolves how many. */
  revokeSessions?: (tokenId: string) => Promise<number>
  now?: () => number
}

/**
 * API tokens: `GET /api/admin/tokens` (newest first, revoked ones included), `POST /api/admin/tokens`
 * (the secret is in this answer only) and `DELETE /api/admin/tokens/:id` (revokes it and closes the
 * connections that use it).
 */
export function registerTokenRoutes(app: GatewayApp, deps: TokenRouteDeps): void {
  const now = deps.now ?? Date.now

  mountAdminRoutes(app, {
    tokens: async () => ({ tokens: (await deps.tokens().list()).map(tokenInfo) }),
    createToken: async (c, input) => {
      const request = await input.body()
      checkScopes(request.scopes)
      const createdAt = now()
      const created = await deps.tokens().create(
        {
          name: request.name,
          role: request.role,
          scopes: request.scopes,
          expiresAt: request.expiresIn === undefined ? null : createdAt + request.expiresIn * 1000,
        },
        createdAt,
      )
      const { record } = created
      c.set(
        'adminAction',
        `token create ${record.id} name=${JSON.stringify(record.name)} role=${record.role} scopes=${record.scopes.join(' ') || '-'}`,
      )
      return { token: created.token, info: tokenInfo(record) }
    },
    revokeToken: async (c, { params: { id } }) => {
      const store = deps.tokens()
      const existing = await store.get(id)
      if (existing === undefined) throw new GatewayError('not_found', `no token ${id}`)
      await store.revoke(id, now())
      const closed = deps.revoked(id)
      const endedSessions = (await deps.revokeSessions?.(id)) ?? 0
      c.set(
        'adminAction',
        `token revoke ${id} (closed ${closed} connections, ended ${endedSessions} sessions)`,
      )
      const record = (await store.get(id)) ?? existing
      return tokenInfo(record)
    },
  })
}

function iso(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString()
}

export function tokenInfo(record: TokenRecord): TokenInfo {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    scopes: record.scopes,
    subject: record.subject,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    lastUsedAt: iso(record.lastUsedAt),
  }
}
