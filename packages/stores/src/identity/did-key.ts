import { ed25519DidKey } from '@parley/protocol'
import { InvalidAgentKeyError } from '../errors.js'

/** The did:key of a raw 32-byte Ed25519 public key (the encoding lives in `@parley/protocol`). */
export const didKeyFromPublicKey: (raw: Uint8Array) => string = ed25519DidKey

/**
 * Checks that `publicKey` is a raw 32-byte key in unpadded base64url and that `id` is its did:key;
 * throws `InvalidAgentKeyError` otherwise. Node's decoder is lenient, so the text must re-encode to itself.
 */
export function checkAgentKey(id: string, publicKey: string): void {
  const raw = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64url') : Buffer.alloc(0)
  if (raw.length !== 32 || raw.toString('base64url') !== publicKey) {
    throw new InvalidAgentKeyError(
      'malformed_key',
      'publicKey must be a raw 32-byte Ed25519 public key in unpadded base64url (43 characters).',
    )
  }
  if (id !== didKeyFromPublicKey(raw)) {
    throw new InvalidAgentKeyError('did_mismatch', 'id is not the did:key of publicKey.')
  }
}
