import {
  dashboardSessionIsLive,
  hashDashboardSessionSecret,
  isDashboardSessionSecret,
  lastSeenIsStale,
  newDashboardSessionId,
  newDashboardSessionSecret,
} from './dashboard-session-secrets.js'
import type { DashboardSessionRecord, DashboardSessionStore } from './types.js'

const newestFirst = (a: DashboardSessionRecord, b: DashboardSessionRecord) =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** Dashboard sessions in memory, for tests and single-process set-ups. Secrets hashed, as on Postgres. */
export function createMemoryDashboardSessionStore(): DashboardSessionStore {
  const byHash = new Map<string, DashboardSessionRecord>()

  function revokeWhere(match: (record: DashboardSessionRecord) => boolean, now: number): number {
    let revoked = 0
    for (const record of byHash.values()) {
      if (!dashboardSessionIsLive(record, now) || !match(record)) continue
      record.revokedAt = now
      revoked += 1
    }
    return revoked
  }

  return {
    async create(input, now) {
      const secret = newDashboardSessionSecret()
      const record: DashboardSessionRecord = {
        id: newDashboardSessionId(),
        principal: input.principal,
        credentialId: input.credentialId ?? null,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: input.expiresAt,
        revokedAt: null,
        userAgent: input.userAgent ?? null,
        address: input.address ?? null,
      }
      byHash.set(hashDashboardSessionSecret(secret), record)
      return { secret, record: { ...record } }
    },

    async verify(secret, now) {
      if (!isDashboardSessionSecret(secret)) return undefined
      const record = byHash.get(hashDashboardSessionSecret(secret))
      if (record === undefined || !dashboardSessionIsLive(record, now)) return undefined
      if (lastSeenIsStale(record, now)) record.lastSeenAt = now
      return { ...record }
    },

    async listLive(now) {
      return [...byHash.values()]
        .filter((record) => dashboardSessionIsLive(record, now))
        .map((record) => ({ ...record }))
        .sort(newestFirst)
    },

    async revoke(id, now) {
      return revokeWhere((record) => record.id === id, now) > 0
    },

    async revokeAll(now) {
      return revokeWhere(() => true, now)
    },

    async revokeByCredential(credentialId, now) {
      return revokeWhere((record) => record.credentialId === credentialId, now)
    },

    async prune(before) {
      let pruned = 0
      for (const [hash, record] of byHash) {
        if (record.expiresAt < before || (record.revokedAt !== null && record.revokedAt < before)) {
          byHash.delete(hash)
          pruned += 1
        }
      }
      return pruned
    },
  }
}
