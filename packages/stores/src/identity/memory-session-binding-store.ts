import { SessionBindingConflictError } from '../errors.js'
import { samePrincipal } from './session-principal.js'
import type { SessionBindingStore, SessionPrincipal } from './types.js'

/** Session bindings in memory: written once per session id. */
export function createMemorySessionBindingStore(): SessionBindingStore {
  const bindings = new Map<string, SessionPrincipal>()
  return {
    async bind(sessionId, principal) {
      const existing = bindings.get(sessionId)
      if (existing !== undefined) {
        if (samePrincipal(existing, principal)) return
        throw new SessionBindingConflictError(sessionId)
      }
      bindings.set(sessionId, structuredClone(principal))
    },
    async lookup(sessionId) {
      const principal = bindings.get(sessionId)
      return principal === undefined ? undefined : structuredClone(principal)
    },
  }
}
