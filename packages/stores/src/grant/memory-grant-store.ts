import { cloneGrant, compareGrantsNewestFirst, newGrant } from './grant-rules.js'
import type { Grant, GrantStore } from './types.js'
import { grantKey } from './types.js'

/** Grants in memory: one node only, gone on restart. */
export function createMemoryGrantStore(): GrantStore {
  const grants = new Map<string, Grant>()
  let version = 0

  return {
    async create(input, now) {
      const grant = newGrant(input, now)
      grants.set(grant.id, grant)
      version++
      return cloneGrant(grant)
    },

    async get(id) {
      const grant = grants.get(id)
      return grant === undefined ? undefined : cloneGrant(grant)
    },

    async list(options = {}) {
      return [...grants.values()]
        .filter((grant) => options.includeRevoked === true || grant.revokedAt === null)
        .sort(compareGrantsNewestFirst)
        .map(cloneGrant)
    },

    async revoke(id, by, now) {
      const grant = grants.get(id)
      if (grant === undefined) return undefined
      if (grant.revokedAt === null) {
        grant.revokedAt = now
        grant.revokedBy = by
        version++
      }
      return cloneGrant(grant)
    },

    async liveBetween(keyA, keyB) {
      const live = [...grants.values()]
        .filter((grant) => {
          if (grant.revokedAt !== null) return false
          const from = grantKey(grant.from)
          const to = grantKey(grant.to)
          return (from === keyA && to === keyB) || (from === keyB && to === keyA)
        })
        .sort(compareGrantsNewestFirst)
      const newest = live[0]
      return newest === undefined ? undefined : cloneGrant(newest)
    },

    async version() {
      return version
    },
  }
}
