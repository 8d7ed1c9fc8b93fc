import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** SHA-256 of a secret, as raw bytes. Comparing digests keeps the comparison constant-time whatever the lengths. */
export function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/** Constant-time check of a presented secret against the digest of the expected one. */
export function secretMatches(presented: string | undefined, expectedDigest: Buffer): boolean {
  if (presented === undefined) return false
  return timingSafeEqual(sha256(presented), expectedDigest)
}

/** A new random secret: 32 bytes, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}
