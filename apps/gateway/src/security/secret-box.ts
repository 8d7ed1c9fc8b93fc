import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** Form of a sealed value: `v1.<nonce>.<ciphertext+tag>`, both base64url. */
const SEALED_VERSION = 'v1'
const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** A sealed value that is malformed, was changed, was sealed for another context or with another key. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError'
}

/**
 * Encrypts secrets at rest (upstream credentials) with AES-256-GCM. `context` (e.g. `a2a:weather`) is bound as
 * additional data: a value sealed for one record does not open as another's.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string
  /** Throws `SecretBoxError` when the value does not open with this key and context. */
  open(sealed: string, context: string): string
}

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.byteLength !== KEY_BYTES) throw new RangeError(`a secret box key is ${KEY_BYTES} bytes`)
  const keyBytes = Buffer.from(key)
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv('aes-256-gcm', keyBytes, nonce)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `${SEALED_VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`
    },
    open(sealed, context) {
      const [version, nonceText, bodyText, ...rest] = sealed.split('.')
      if (
        version !== SEALED_VERSION ||
        nonceText === undefined ||
        bodyText === undefined ||
        rest.length > 0
      ) {
        throw new SecretBoxError('the sealed value is not in a known form')
      }
      const nonce = Buffer.from(nonceText, 'base64url')
      const body = Buffer.from(bodyText, 'base64url')
      if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
        throw new SecretBoxError('the sealed value is not in a known form')
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', keyBytes, nonce)
        decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        // GCM tells nothing more: changed bytes, another key or another context all fail the tag.
        throw new SecretBoxError(
          'the sealed value does not open with this key (changed, or sealed with another key)',
        )
      }
    },
  }
}

/** A configured 32-byte key: 64 hex digits, or base64 / base64url. */
export function parseSecretKey(text: string): Uint8Array {
  const trimmed = text.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url')
  if (bytes.length !== KEY_BYTES)
    throw new RangeError(`the secret key must be ${KEY_BYTES} bytes (hex or base64)`)
  return new Uint8Array(bytes)
}

/**
 * The key of the upstreams' credentials: `upstreams.secretKey` when configured, else derived from the pairing
 * secret (configured, or generated once in the data folder with mode 0600), like the card-signing key: the same
 * on every node that shares it, and across restarts.
 */
export function upstreamSecretKey(configured: string | undefined, pairingSecret: Uint8Array): Uint8Array {
  if (configured !== undefined) return parseSecretKey(configured)
  return new Uint8Array(
    hkdfSync('sha256', pairingSecret, new Uint8Array(0), 'parley upstream credentials', KEY_BYTES),
  )
}
