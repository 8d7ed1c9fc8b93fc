/**
 * base64url and base58btc codecs in plain JavaScript: the identity helpers must run in browsers, where there
 * is no `Buffer`, and decoding must be strict (a key or signature has exactly one text form).
 */

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function lookupTable(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1)
  for (let index = 0; index < alphabet.length; index++) table[alphabet.charCodeAt(index)] = index
  return table
}

const BASE64URL_VALUES = lookupTable(BASE64URL_ALPHABET)
const BASE58_VALUES = lookupTable(BASE58_ALPHABET)

function digitValue(table: Int16Array, text: string, index: number): number {
  const code = text.charCodeAt(index)
  return code < 128 ? (table[code] ?? -1) : -1
}

/** base64url without padding (RFC 4648 §5), as JWK and most token formats write it. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let text = ''
  let index = 0
  for (; index + 2 < bytes.length; index += 3) {
    const chunk = ((bytes[index] ?? 0) << 16) | ((bytes[index + 1] ?? 0) << 8) | (bytes[index + 2] ?? 0)
    text +=
      BASE64URL_ALPHABET.charAt(chunk >>> 18) +
      BASE64URL_ALPHABET.charAt((chunk >>> 12) & 63) +
      BASE64URL_ALPHABET.charAt((chunk >>> 6) & 63) +
      BASE64URL_ALPHABET.charAt(chunk & 63)
  }
  const rest = bytes.length - index
  if (rest === 1) {
    const chunk = (bytes[index] ?? 0) << 16
    text += BASE64URL_ALPHABET.charAt(chunk >>> 18) + BASE64URL_ALPHABET.charAt((chunk >>> 12) & 63)
  } else if (rest === 2) {
    const chunk = ((bytes[index] ?? 0) << 16) | ((bytes[index + 1] ?? 0) << 8)
    text +=
      BASE64URL_ALPHABET.charAt(chunk >>> 18) +
      BASE64URL_ALPHABET.charAt((chunk >>> 12) & 63) +
      BASE64URL_ALPHABET.charAt((chunk >>> 6) & 63)
  }
  return text
}

/**
 * Decodes unpadded base64url; `undefined` for anything else (padding, `+`/`/`, whitespace, an impossible
 * length, or unused trailing bits that are not zero, so every byte string has exactly one accepted text).
 */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4))
  let buffer = 0
  let bits = 0
  let out = 0
  for (let index = 0; index < text.length; index++) {
    const value = digitValue(BASE64URL_VALUES, text, index)
    if (value < 0) return undefined
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[out++] = (buffer >>> bits) & 0xff
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined
  return bytes
}

/** base58 with the Bitcoin alphabet (multibase `z`), leading zero bytes written as `1`. */
export function base58BtcEncode(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // Little-endian base-58 digits of the number the remaining bytes spell.
  const digits: number[] = []
  for (let index = zeros; index < bytes.length; index++) {
    let carry = bytes[index] ?? 0
    for (let digit = 0; digit < digits.length; digit++) {
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
  for (let digit = digits.length - 1; digit >= 0; digit--) text += BASE58_ALPHABET.charAt(digits[digit] ?? 0)
  return text
}

/** Decodes base58btc (no multibase prefix); `undefined` when a character is outside the alphabet. */
export function base58BtcDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  let zeros = 0
  while (zeros < text.length && text.charAt(zeros) === '1') zeros++
  // Little-endian bytes of the number the remaining digits spell.
  const bytes: number[] = []
  for (let index = zeros; index < text.length; index++) {
    let carry = digitValue(BASE58_VALUES, text, index)
    if (carry < 0) return undefined
    for (let byte = 0; byte < bytes.length; byte++) {
      carry += (bytes[byte] ?? 0) * 58
      bytes[byte] = carry & 0xff
      carry >>>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>>= 8
    }
  }
  const result = new Uint8Array(zeros + bytes.length)
  for (let byte = 0; byte < bytes.length; byte++) result[result.length - 1 - byte] = bytes[byte] ?? 0
  return result
}

/** Multicodec `ed25519-pub` (0xed) as an unsigned varint: the prefix a did:key puts before the raw key. */
const ED25519_MULTICODEC = [0xed, 0x01] as const
/** `did:key:` + multibase `z` (base58btc). */
export const DID_KEY_PREFIX = 'did:key:z'
/** Length in bytes of a raw Ed25519 public key. */
export const ED25519_PUBLIC_KEY_LENGTH = 32

/**
 * The did:key of a raw Ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key). The caller checks the
 * key's length (each package reports a wrong one with its own typed error).
 */
export function ed25519DidKey(raw: Uint8Array): string {
  const bytes = new Uint8Array(ED25519_MULTICODEC.length + raw.length)
  bytes.set(ED25519_MULTICODEC)
  bytes.set(raw, ED25519_MULTICODEC.length)
  return DID_KEY_PREFIX + base58BtcEncode(bytes)
}

/** The raw 32-byte public key of an Ed25519 did:key, or undefined when `did` is anything else. */
export function ed25519KeyFromDidKey(did: string): Uint8Array<ArrayBuffer> | undefined {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX)) return undefined
  const bytes = base58BtcDecode(did.slice(DID_KEY_PREFIX.length))
  if (
    bytes === undefined ||
    bytes.length !== ED25519_MULTICODEC.length + ED25519_PUBLIC_KEY_LENGTH ||
    bytes[0] !== ED25519_MULTICODEC[0] ||
    bytes[1] !== ED25519_MULTICODEC[1]
  ) {
    return undefined
  }
  return bytes.slice(ED25519_MULTICODEC.length)
}
