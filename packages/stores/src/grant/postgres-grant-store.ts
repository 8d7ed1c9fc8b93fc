import { and, desc, eq, isNull, or, sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type GrantRow, grants } from '../schema.js'
import { newGrant } from './grant-rules.js'
import { type Grant, type GrantParty, type GrantStore, grantKey } from './types.js'

function party(principal: string, clientId: string, agentId: string | null): GrantParty {
  return agentId === null ? { principal, clientId } : { principal, clientId, agentId }
}

function toGrant(row: GrantRow): Grant {
  return {
    id: row.id,
    from: party(row.fromPrincipal, row.fromClientId, row.fromAgentId),
    to: party(row.toPrincipal, row.toClientId, row.toAgentId),
    reason: row.reason,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    revokedBy: row.revokedBy,
  }
}

function toRow(grant: Grant): GrantRow {
  return {
    id: grant.id,
    fromPrincipal: grant.from.principal,
    fromClientId: grant.from.clientId,
    fromAgentId: grant.from.agentId ?? null,
    fromKey: grantKey(grant.from),
    toPrincipal: grant.to.principal,
    toClientId: grant.to.clientId,
    toAgentId: grant.to.agentId ?? null,
    toKey: grantKey(grant.to),
    reason: grant.reason,
    createdAt: grant.createdAt,
    revokedAt: grant.revokedAt,
    revokedBy: grant.revokedBy,
  }
}

/** Grants in the `grants` table, shared by every node on the database. */
export function createPostgresGrantStore(database: ParleyDatabase): GrantStore {
  const { db } = database
  const newestFirst = [desc(grants.createdAt), desc(grants.id)] as const

  return {
    async create(input, now) {
      const grant = newGrant(input, now)
      await db.insert(grants).values(toRow(grant))
      return grant
    },

    async get(id) {
      const [row] = await db.select().from(grants).where(eq(grants.id, id))
      return row === undefined ? undefined : toGrant(row)
    },

    async list(options = {}) {
      const rows = await db
        .select()
        .from(grants)
        .where(options.includeRevoked === true ? undefined : isNull(grants.revokedAt))
        .orderBy(...newestFirst)
      return rows.map(toGrant)
    },

    async revoke(id, by, now) {
      // Only a live grant is updated, so a second revoke keeps the first one's time and author.
      const [updated] = await db
        .update(grants)
        .set({ revokedAt: now, revokedBy: by })
        .where(and(eq(grants.id, id), isNull(grants.revokedAt)))
        .returning()
      if (updated !== undefined) return toGrant(updated)
      const [row] = await db.select().from(grants).where(eq(grants.id, id))
      return row === undefined ? undefined : toGrant(row)
    },

    async liveBetween(keyA, keyB) {
      const [row] = await db
        .select()
        .from(grants)
        .where(
          and(
            isNull(grants.revokedAt),
            or(
              and(eq(grants.fromKey, keyA), eq(grants.toKey, keyB)),
              and(eq(grants.fromKey, keyB), eq(grants.toKey, keyA)),
            ),
          ),
        )
        .orderBy(...newestFirst)
        .limit(1)
      return row === undefined ? undefined : toGrant(row)
    },

    async version() {
      // Rows are never deleted and revoked_at is set once: creations plus revocations only grow.
      const [row] = await db
        .select({ version: sql<number>`(count(*) + count(${grants.revokedAt}))::int` })
        .from(grants)
      return row?.version ?? 0
    },
  }
}
