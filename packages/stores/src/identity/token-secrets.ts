import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** `tok_` + 16 base64url characters (96 random bits). */
export function newTokenId(): string {
  return `tok_${randomBytes(12).toString('base64url')}`
}

const SECRET_PREFIX = 'pk_'
/** 32 random bytes in base64url, without padding. */
const RANDOM_PART_LENGTH = 43
const TOKEN_ID_PATTERN = /^tok_[A-Za-z0-9_-]{16}$/
const RANDOM_PART_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** The secret shown once: `pk_<id>_<32 random bytes base64url>`. */
export function newTokenSecret(id: string): string {
  return `${SECRET_PREFIX}${id}_${randomBytes(32).toString('base64url')}`
}

/**
 * The token id embedded in a secret, or undefined when the secret does not have the shape we issue. The
 * random part has a fixed length, so ids may hold `_` without making the split ambiguous.
 */
export function tokenIdOfSecret(secret: string): string | undefined {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return undefined
  const separator = secret.length - RANDOM_PART_LENGTH - 1
  if (separator <= SECRET_PREFIX.length || secret.charAt(separator) !== '_') return undefined
  const id = secret.slice(SECRET_PREFIX.length, separator)
  if (!TOKEN_ID_PATTERN.test(id) || !RANDOM_PART_PATTERN.test(secret.slice(separator + 1))) return undefined
  return id
}

/** SHA-256 of the whole secret, hex: the only form a token is stored in. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function tokenSecretMatches(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex')
  const actual = createHash('sha256').update(secret, 'utf8').digest()
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** Whether a token can be used at `now`. */
export function tokenIsLive(record: { revokedAt: number | null; expiresAt: number | null }, now: number) {
  return record.revokedAt === null && (record.expiresAt === null || record.expiresAt > now)
}
