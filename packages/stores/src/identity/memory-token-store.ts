import {
  hashTokenSecret,
  newTokenId,
  newTokenSecret,
  tokenIdOfSecret,
  tokenIsLive,
  tokenSecretMatches,
} from './token-secrets.js'
import type { TokenRecord, TokenStore } from './types.js'

interface StoredToken {
  record: TokenRecord
  secretHash: string
}

const copy = (record: TokenRecord): TokenRecord => ({ ...record, scopes: [...record.scopes] })

/** Tokens in memory, for tests and single-process set-ups that need no persistence. Secrets hashed, as on Postgres. */
export function createMemoryTokenStore(): TokenStore {
  const tokens = new Map<string, StoredToken>()

  return {
    async create(input, now) {
      const id = newTokenId()
      const token = newTokenSecret(id)
      const record: TokenRecord = {
        id,
        name: input.name,
        role: input.role,
        scopes: [...input.scopes],
        subject: input.subject ?? null,
        createdAt: now,
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
        lastUsedAt: null,
      }
      tokens.set(id, { record, secretHash: hashTokenSecret(token) })
      return { token, record: copy(record) }
    },

    async verify(secret, now) {
      const id = tokenIdOfSecret(secret)
      const stored = id === undefined ? undefined : tokens.get(id)
      if (stored === undefined || !tokenSecretMatches(secret, stored.secretHash)) return undefined
      if (!tokenIsLive(stored.record, now)) return undefined
      if (stored.record.lastUsedAt === null || stored.record.lastUsedAt < now) stored.record.lastUsedAt = now
      return copy(stored.record)
    },

    async get(id) {
      const stored = tokens.get(id)
      return stored === undefined ? undefined : copy(stored.record)
    },

    async list() {
      return [...tokens.values()]
        .map((stored) => copy(stored.record))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    },

    async revoke(id, now) {
      const stored = tokens.get(id)
      if (stored === undefined || stored.record.revokedAt !== null) return false
      stored.record.revokedAt = now
      return true
    },
  }
}
