import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type ApiTokenRow, apiTokens } from '../schema.js'
import {
  hashTokenSecret,
  newTokenId,
  newTokenSecret,
  tokenIdOfSecret,
  tokenIsLive,
  tokenSecretMatches,
} from './token-secrets.js'
import type { Role, TokenRecord, TokenStore } from './types.js'

function toRecord(row: ApiTokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    scopes: row.scopes,
    subject: row.subject,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  }
}

/** Tokens in the `api_tokens` table; only the SHA-256 of each secret is stored. */
export function createPostgresTokenStore(database: ParleyDatabase): TokenStore {
  const { db } = database

  return {
    async create(input, now) {
      const id = newTokenId()
      const token = newTokenSecret(id)
      const [row] = await db
        .insert(apiTokens)
        .values({
          id,
          name: input.name,
          role: input.role,
          scopes: [...input.scopes],
          subject: input.subject ?? null,
          secretHash: hashTokenSecret(token),
          createdAt: now,
          expiresAt: input.expiresAt ?? null,
        })
        .returning()
      if (row === undefined) throw new Error('the token insert returned no row')
      return { token, record: toRecord(row) }
    },

    async verify(secret, now) {
      const id = tokenIdOfSecret(secret)
      if (id === undefined) return undefined
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id))
      if (row === undefined || !tokenSecretMatches(secret, row.secretHash)) return undefined
      const record = toRecord(row)
      if (!tokenIsLive(record, now)) return undefined
      // Best effort: a failed write must not refuse a valid token.
      await db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now))))
        .catch(() => undefined)
      return { ...record, lastUsedAt: Math.max(record.lastUsedAt ?? now, now) }
    },

    async get(id) {
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id))
      return row === undefined ? undefined : toRecord(row)
    },

    async list() {
      const rows = await db
        .select()
        .from(apiTokens)
        .orderBy(desc(apiTokens.createdAt), sql`${apiTokens.id} collate "C" desc`)
      return rows.map(toRecord)
    },

    async revoke(id, now) {
      const revoked = await db
        .update(apiTokens)
        .set({ revokedAt: now })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id })
      return revoked.length > 0
    },
  }
}
