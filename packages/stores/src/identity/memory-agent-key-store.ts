import { checkAgentKey } from './did-key.js'
import type { AgentKey, AgentKeyStore } from './types.js'

const copy = (key: AgentKey): AgentKey => ({ ...key, scopes: [...key.scopes] })

/** Registered agent keys in memory. */
export function createMemoryAgentKeyStore(): AgentKeyStore {
  const keys = new Map<string, AgentKey>()
  return {
    async register(input, now) {
      checkAgentKey(input.id, input.publicKey)
      const existing = keys.get(input.id)
      // The id is the key's did, so the same id is the same key: a repeat returns what was registered.
      if (existing !== undefined) return copy(existing)
      const key: AgentKey = {
        id: input.id,
        publicKey: input.publicKey,
        name: input.name,
        role: input.role ?? 'agent',
        scopes: [...(input.scopes ?? [])],
        createdAt: now,
        revokedAt: null,
      }
      keys.set(key.id, key)
      return copy(key)
    },
    async get(id) {
      const key = keys.get(id)
      return key === undefined || key.revokedAt !== null ? undefined : copy(key)
    },
    async list() {
      return [...keys.values()]
        .map(copy)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    },
    async revoke(id, now) {
      const key = keys.get(id)
      if (key === undefined || key.revokedAt !== null) return false
      key.revokedAt = now
      return true
    },
  }
}
