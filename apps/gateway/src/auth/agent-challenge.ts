import { createPublicKey, randomBytes, verify } from 'node:crypto'

/** The signed text, byte for byte as `challengeMessage` in `@parley/client` builds it (a test checks both agree). */
export function challengeMessage(nonce: string, timestamp: number, identity: string): string {
  return `parley-auth-v1\n${nonce}\n${timestamp}\n${identity}`
}

/** 32 random bytes, base64url. */
export function newNonce(): string {
  return randomBytes(32).toString('base64url')
}

/** Whether `signature` (base64url) is the Ed25519 signature of `message` by the raw 32-byte `publicKey` (base64url). */
export function signatureValid(publicKey: string, message: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' })
    const bytes = Buffer.from(signature, 'base64url')
    if (bytes.length !== 64) return false
    return verify(null, Buffer.from(message, 'utf8'), key, bytes)
  } catch {
    return false
  }
}

export const DEFAULT_MAX_REMEMBERED_NONCES = 10_000

/**
 * Nonces already answered, oldest forgotten first. A nonce is tied to its connection anyway; this set
 * also refuses an answer replayed after the connection's own record of it is gone.
 */
export function createUsedNonces(max = DEFAULT_MAX_REMEMBERED_NONCES) {
  const used = new Set<string>()
  return {
    has: (nonce: string) => used.has(nonce),
    add(nonce: string): void {
      used.add(nonce)
      if (used.size > max) {
        const oldest = used.values().next()
        if (!oldest.done) used.delete(oldest.value)
      }
    },
  }
}
