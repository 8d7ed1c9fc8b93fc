import { and, desc, eq, gt, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type DashboardSessionRow, dashboardSessions } from '../schema.js'
import {
  hashDashboardSessionSecret,
  isDashboardSessionSecret,
  LAST_SEEN_RESOLUTION_MS,
  newDashboardSessionId,
  newDashboardSessionSecret,
} from './dashboard-session-secrets.js'
import type { DashboardSessionRecord, DashboardSessionStore } from './types.js'

function toRecord(row: DashboardSessionRow): DashboardSessionRecord {
  const { secretHash: _secretHash, ...record } = row
  return record
}

/** Dashboard sessions in the `dashboard_sessions` table; only the SHA-256 of each secret is stored. */
export function createPostgresDashboardSessionStore(database: ParleyDatabase): DashboardSessionStore {
  const { db } = database
  const live = (now: number) => and(isNull(dashboardSessions.revokedAt), gt(dashboardSessions.expiresAt, now))

  async function revokeWhere(match: SQL | undefined, now: number): Promise<number> {
    const revoked = await db
      .update(dashboardSessions)
      .set({ revokedAt: now })
      .where(and(live(now), match))
      .returning({ id: dashboardSessions.id })
    return revoked.length
  }

  return {
    async create(input, now) {
      const secret = newDashboardSessionSecret()
      const [row] = await db
        .insert(dashboardSessions)
        .values({
          id: newDashboardSessionId(),
          secretHash: hashDashboardSessionSecret(secret),
          principal: input.principal,
          credentialId: input.credentialId ?? null,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: input.expiresAt,
          userAgent: input.userAgent ?? null,
          address: input.address ?? null,
        })
        .returning()
      if (row === undefined) throw new Error('the session insert returned no row')
      return { secret, record: toRecord(row) }
    },

    async verify(secret, now) {
      if (!isDashboardSessionSecret(secret)) return undefined
      const hash = hashDashboardSessionSecret(secret)
      const [row] = await db
        .select()
        .from(dashboardSessions)
        .where(and(eq(dashboardSessions.secretHash, hash), live(now)))
      if (row === undefined) return undefined
      if (now - row.lastSeenAt < LAST_SEEN_RESOLUTION_MS) return toRecord(row)
      // Best effort: a failed write must not refuse a valid session.
      await db
        .update(dashboardSessions)
        .set({ lastSeenAt: now })
        .where(and(eq(dashboardSessions.id, row.id), lt(dashboardSessions.lastSeenAt, now)))
        .catch(() => undefined)
      return { ...toRecord(row), lastSeenAt: now }
    },

    async listLive(now) {
      const rows = await db
        .select()
        .from(dashboardSessions)
        .where(live(now))
        .orderBy(desc(dashboardSessions.createdAt), sql`${dashboardSessions.id} collate "C" desc`)
      return rows.map(toRecord)
    },

    revoke: (id, now) => revokeWhere(eq(dashboardSessions.id, id), now).then((count) => count > 0),
    revokeAll: (now) => revokeWhere(undefined, now),
    revokeByCredential: (credentialId, now) =>
      revokeWhere(eq(dashboardSessions.credentialId, credentialId), now),

    async prune(before) {
      const pruned = await db
        .delete(dashboardSessions)
        .where(
          or(
            lt(dashboardSessions.expiresAt, before),
            and(isNotNull(dashboardSessions.revokedAt), lt(dashboardSessions.revokedAt, before)),
          ),
        )
        .returning({ id: dashboardSessions.id })
      return pruned.length
    },
  }
}
