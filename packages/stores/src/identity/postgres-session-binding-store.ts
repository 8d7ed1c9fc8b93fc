import { eq } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { SessionBindingConflictError } from '../errors.js'
import { sessionBindings } from '../schema.js'
import { samePrincipal } from './session-principal.js'
import type { Role, SessionBindingStore, SessionPrincipal } from './types.js'

/** Session bindings in the `session_bindings` table; the primary key makes the first bind win. */
export function createPostgresSessionBindingStore(database: ParleyDatabase): SessionBindingStore {
  const { db } = database

  async function lookup(sessionId: string): Promise<SessionPrincipal | undefined> {
    const [row] = await db.select().from(sessionBindings).where(eq(sessionBindings.sessionId, sessionId))
    if (row === undefined) return undefined
    const principal: SessionPrincipal = { principal: row.principal, role: row.role as Role }
    if (row.metadata !== null) principal.metadata = row.metadata
    return principal
  }

  return {
    async bind(sessionId, principal) {
      const inserted = await db
        .insert(sessionBindings)
        .values({
          sessionId,
          principal: principal.principal,
          role: principal.role,
          metadata: principal.metadata ?? null,
        })
        .onConflictDoNothing()
        .returning({ sessionId: sessionBindings.sessionId })
      if (inserted.length > 0) return
      const existing = await lookup(sessionId)
      if (existing !== undefined && samePrincipal(existing, principal)) return
      throw new SessionBindingConflictError(sessionId)
    },
    lookup,
  }
}
