import type { AgentKeyInfo } from '@parley/protocol'
import type { AgentKey, AgentKeyStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { checkScopes } from './request-body.js'

export interface AgentKeyRouteDeps {
  agentKeys: () => AgentKeyStore
  /** Closes the open connections authenticated with the key; resolves how many. */
  revoked: (id: string) => number
  now?: () => number
}

/**
 * Agent identities allowed to answer the Ed25519 challenge: `GET /api/admin/agent-keys` (revoked ones
 * included), `POST` (registers a did:key and its raw public key) and `DELETE /api/admin/agent-keys/:id`
 * (revokes it and closes its connections with 4001).
 */
export function registerAgentKeyRoutes(app: GatewayApp, deps: AgentKeyRouteDeps): void {
  const now = deps.now ?? Date.now

  mountAdminRoutes(app, {
    agentKeys: async () => ({ agentKeys: (await deps.agentKeys().list()).map(agentKeyInfo) }),
    registerAgentKey: async (c, input) => {
      const request = await input.body()
      checkScopes(request.scopes)
      c.set('adminAction', `agent key register ${request.id}`)
      const key = await deps.agentKeys().register(request, now())
      c.set(
        'adminAction',
        `agent key register ${key.id} name=${JSON.stringify(key.name)} role=${key.role} scopes=${key.scopes.join(' ') || '-'}`,
      )
      return agentKeyInfo(key)
    },
    revokeAgentKey: async (c, { params: { id } }) => {
      const store = deps.agentKeys()
      c.set('adminAction', `agent key revoke ${id}`)
      const existing = (await store.list()).find((key) => key.id === id)
      if (existing === undefined) throw new GatewayError('not_found', `no agent key ${id}`)
      await store.revoke(id, now())
      const closed = deps.revoked(id)
      c.set('adminAction', `agent key revoke ${id} (closed ${closed} connections)`)
      const record = (await store.list()).find((key) => key.id === id) ?? existing
      return agentKeyInfo(record)
    },
  })
}

export function agentKeyInfo(key: AgentKey): AgentKeyInfo {
  return {
    id: key.id,
    publicKey: key.publicKey,
    name: key.name,
    role: key.role,
    scopes: key.scopes,
    createdAt: new Date(key.createdAt).toISOString(),
    revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
  }
}
