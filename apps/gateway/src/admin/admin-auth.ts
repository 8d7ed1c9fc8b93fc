import { type DashboardSessionStore, isDashboardSessionSecret } from '@parley/stores'
import type { AuthProvider } from '../auth/auth-provider.js'
import type { Authenticate } from '../auth/authenticator.js'
import { ALL_SCOPES } from '../auth/scopes.js'
import { httpAuthRequest, refusedResponse } from '../http/bearer-auth.js'
import type { ClientAddressResolver } from '../http/client-address.js'
import type { GatewayApp } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { secretMatches } from '../security/secrets.js'
import { mountAdminRoutes } from './admin-routes.js'

export interface AdminAuthDeps {
  /** SHA-256 of the admin token; undefined until it is known (then only role-admin credentials get in). */
  adminTokenDigest: () => Buffer | undefined
  /** The connection auth provider: API tokens and JWTs with role `admin` may use the admin API too. */
  provider: () => AuthProvider
  /** Dashboard sessions (`ps_…` secrets), opened with `POST /api/admin/sessions`. */
  sessions: () => DashboardSessionStore
  authenticate: Authenticate
  clientAddress: ClientAddressResolver
  /** Records an admin action (kind `admin`). */
  recordAction: (principal: string, detail: string, outcome: 'ok' | 'error') => void
  now?: () => number
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Guards `/api/admin/*`: `Authorization: Bearer <token>` with the admin token (compared in constant time
 * over digests), a live dashboard session, or a credential of role `admin`. No or a wrong credential → 401;
 * a valid one of another role → 403. Attempts count against the failed-auth limit of the client's address
 * and credential like connection attempts. Every request that changes something leaves an audit row of
 * kind `admin`.
 */
export function registerAdminAuth(app: GatewayApp, deps: AdminAuthDeps): void {
  const now = deps.now ?? Date.now
  const adminProvider: AuthProvider = {
    async check(request) {
      if (request.token === undefined) return { success: false, metadata: { reason: 'missing token' } }
      const digest = deps.adminTokenDigest()
      if (digest !== undefined && secretMatches(request.token, digest)) {
        return { success: true, userId: 'admin', role: 'admin', scopes: [...ALL_SCOPES] }
      }
      if (isDashboardSessionSecret(request.token)) {
        const session = await deps.sessions().verify(request.token, now())
        if (session === undefined) {
          return { success: false, metadata: { reason: 'unknown, revoked or expired dashboard session' } }
        }
        return {
          success: true,
          userId: session.principal,
          role: 'admin',
          scopes: [...ALL_SCOPES],
          metadata: { dashboardSessionId: session.id, expiresAt: session.expiresAt },
        }
      }
      return deps.provider().check(request)
    },
  }

  app.use('/api/admin/*', async (c, next) => {
    const outcome = await deps.authenticate(
      httpAuthRequest(c, deps.clientAddress),
      { surface: 'admin api' },
      adminProvider,
    )
    if (!outcome.ok) {
      const message =
        outcome.code === 'unauthorized'
          ? 'a valid admin credential is required: Authorization: Bearer <token>'
          : outcome.message
      return refusedResponse(c, outcome, 'parley-admin', message)
    }
    if (outcome.principal.role !== 'admin') {
      return errorResponse(
        c,
        'forbidden',
        `${outcome.principal.id} has role ${outcome.principal.role}, not admin`,
      )
    }
    c.set('principal', outcome.principal)
    const sessionId = outcome.metadata.dashboardSessionId
    c.set('adminCredential', {
      dashboardSessionId: typeof sessionId === 'string' ? sessionId : undefined,
      tokenId: outcome.tokenId,
      expiresAt: outcome.expiresAt,
    })
    await next()
    if (READ_METHODS.has(c.req.method)) return
    // Routes name what they did in `adminAction`; the method and path (never the body) stand in otherwise.
    const action = c.get('adminAction') ?? `${c.req.method} ${c.req.path}`
    deps.recordAction(
      outcome.principal.id,
      `${action} (${c.res.status})`,
      c.res.status < 400 ? 'ok' : 'error',
    )
  })

  mountAdminRoutes(app, { whoami: (c) => ({ role: 'admin', principal: c.get('principal').id }) })
}
