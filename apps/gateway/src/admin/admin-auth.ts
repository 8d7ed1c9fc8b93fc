import type { GatewayApp } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { bearerToken, secretMatches } from '../security/secrets.js'

export interface AdminAuthDeps {
  /** SHA-256 of the admin token; undefined until it is known, and then every request is refused. */
  adminTokenDigest: () => Buffer | undefined
  onFailure: (reason: 'missing token' | 'wrong token') => void
}

/** Guards `/api/admin/*`: `Authorization: Bearer <admin token>`, compared in constant time over digests. */
export function registerAdminAuth(app: GatewayApp, deps: AdminAuthDeps): void {
  app.use('/api/admin/*', async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    const digest = deps.adminTokenDigest()
    if (token === undefined || digest === undefined || !secretMatches(token, digest)) {
      deps.onFailure(token === undefined ? 'missing token' : 'wrong token')
      c.header('WWW-Authenticate', 'Bearer realm="parley-admin"')
      return errorResponse(
        c,
        'unauthorized',
        'a valid admin token is required: Authorization: Bearer <token>',
      )
    }
    await next()
  })

  app.get('/api/admin/whoami', (c) => c.json({ role: 'admin' as const }))
}
