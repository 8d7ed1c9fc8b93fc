import { base58BtcEncode } from '@parley/protocol'
import { InvalidAgentKeyError } from '../errors.js'

/** Multicodec `ed25519-pub` (0xed) as an unsigned varint, before the raw key in a did:key. */
const ED25519_PUB_PREFIX = [0xed, 0x01]
const DID_KEY_PREFIX = 'did:key:z'

/** The did:key of a raw 32-byte Ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key). */
export function didKeyFromPublicKey(raw: Uint8Array): string {
  return DID_KEY_PREFIX + base58BtcEncode(Uint8Array.from([...ED25519_PUB_PREFIX, ...raw]))
}

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
