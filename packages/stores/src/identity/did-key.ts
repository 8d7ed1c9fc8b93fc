import { InvalidAgentKeyError } from '../errors.js'

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** Multicodec `ed25519-pub` (0xed) as an unsigned varint, before the raw key in a did:key. */
const ED25519_PUB_PREFIX = [0xed, 0x01]
const DID_KEY_PREFIX = 'did:key:z'

/** base58 with the Bitcoin alphabet (multibase `z`), leading zero bytes written as `1`. */
export function base58BtcEncode(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros += 1
  // Little-endian base-58 digits of the number the remaining bytes spell.
  const digits: number[] = []
  for (let index = zeros; index < bytes.length; index += 1) {
    let carry = bytes[index] ?? 0
    for (let digit = 0; digit < digits.length; digit += 1) {
      carry += (digits[digit] ?? 0) * 256
      digits[digit] = carry % 58
      carry = Math.floor(carry / 58)
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = Math.floor(carry / 58)
    }
  }
  let text = '1'.repeat(zeros)
  for (let digit = digits.length - 1; digit >= 0; digit -= 1)
    text += BASE58_ALPHABET.charAt(digits[digit] ?? 0)
  return text
}

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
