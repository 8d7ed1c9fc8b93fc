import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type AgentKeyRow, agentKeys } from '../schema.js'
import { checkAgentKey } from './did-key.js'
import type { AgentKey, AgentKeyStore, Role } from './types.js'

function toAgentKey(row: AgentKeyRow): AgentKey {
  return {
    id: row.id,
    publicKey: row.publicKey,
    name: row.name,
    role: row.role as Role,
    scopes: row.scopes,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  }
}

/** Registered agent keys in the `agent_keys` table. */
export function createPostgresAgentKeyStore(database: ParleyDatabase): AgentKeyStore {
  const { db } = database
  return {
    async register(input, now) {
      checkAgentKey(input.id, input.publicKey)
      // The id is the key's did, so the same id is the same key: a repeat returns what was registered.
      await db
        .insert(agentKeys)
        .values({
          id: input.id,
          publicKey: input.publicKey,
          name: input.name,
          role: input.role ?? 'agent',
          scopes: [...(input.scopes ?? [])],
          createdAt: now,
        })
        .onConflictDoNothing()
      const [row] = await db.select().from(agentKeys).where(eq(agentKeys.id, input.id))
      if (row === undefined) throw new Error('the agent key vanished after its insert')
      return toAgentKey(row)
    },
    async get(id) {
      const [row] = await db
        .select()
        .from(agentKeys)
        .where(and(eq(agentKeys.id, id), isNull(agentKeys.revokedAt)))
      return row === undefined ? undefined : toAgentKey(row)
    },
    async list() {
      const rows = await db
        .select()
        .from(agentKeys)
        .orderBy(desc(agentKeys.createdAt), sql`${agentKeys.id} collate "C" desc`)
      return rows.map(toAgentKey)
    },
    async revoke(id, now) {
      const revoked = await db
        .update(agentKeys)
        .set({ revokedAt: now })
        .where(and(eq(agentKeys.id, id), isNull(agentKeys.revokedAt)))
        .returning({ id: agentKeys.id })
      return revoked.length > 0
    },
  }
}
