import {
  base58BtcDecode,
  base64UrlDecode,
  base64UrlEncode,
  DID_KEY_PREFIX,
  ed25519DidKey,
  ed25519KeyFromDidKey,
  ED25519_PUBLIC_KEY_LENGTH as PUBLIC_KEY_LENGTH,
} from '@parley/protocol'
import { ParleyError } from './errors.js'

/**
 * Ed25519 agent identities on WebCrypto (`globalThis.crypto.subtle`): Node 20+, Chrome 137+, Firefox 129+,
 * Safari 17+. No dependency and no Node built-in, so the same code runs in browsers; file helpers live in
 * `@parley/client/node`.
 */

const ED25519 = { name: 'Ed25519' } as const
const SIGNATURE_LENGTH = 64
/** Version of the challenge message format; the gateway builds the same string with `challengeMessage`. */
export const CHALLENGE_CONTEXT = 'parley-auth-v1'
export const IDENTITY_FILE_VERSION = 1

export type IdentityErrorReason =
  | 'invalid_did'
  | 'invalid_public_key'
  | 'invalid_private_key'
  | 'key_mismatch'
  | 'invalid_file'
  | 'invalid_challenge'
  | 'not_extractable'
  | 'unsupported'
  | 'file_exists'

/**
 * A malformed did, key, identity file or challenge, or a runtime without Ed25519. A `ParleyError` (code
 * `bad_request`, `conflict` for `file_exists`) so one `instanceof ParleyError` still catches everything;
 * `reason` says what was wrong.
 */
export class IdentityError extends ParleyError {
  readonly reason: IdentityErrorReason

  constructor(reason: IdentityErrorReason, message: string, options?: { cause?: unknown }) {
    super({
      code: reason === 'file_exists' ? 'conflict' : 'bad_request',
      message,
      retryable: false,
      cause: options?.cause,
    })
    this.name = 'IdentityError'
    this.reason = reason
  }
}

/** An agent's Ed25519 key pair and the id derived from its public key. */
export interface AgentIdentity {
  /** `did:key:z6Mk…`: the agent's id, derived from the public key alone. */
  readonly id: string
  /** The raw 32-byte public key, base64url (what the gateway's agent key store keeps). */
  readonly publicKey: string
  /** The WebCrypto keys. A browser can keep the pair in IndexedDB as is (structured clone) without exporting it. */
  readonly keyPair: CryptoKeyPair
}

/**
 * The JSON form of an identity, for a file or a secret store. `privateKey` is SECRET: whoever holds it is the
 * agent. Keep the file readable by its owner only (`saveIdentity` writes it with mode 0600).
 */
export interface IdentityFile {
  version: typeof IDENTITY_FILE_VERSION
  /** `did:key:z…`, checked against the keys on import. */
  id: string
  /** Raw 32-byte Ed25519 public key, base64url. */
  publicKey: string
  /** SECRET. The PKCS#8 DER private key, base64url (unpadded). */
  privateKey: string
}

export interface IdentityKeyOptions {
  /**
   * Whether the private key can be exported again (`exportIdentity`, `saveIdentity`). Default `true`; a
   * browser app that keeps its `CryptoKeyPair` in IndexedDB can pass `false` so page scripts can sign but
   * never read the key.
   */
  extractable?: boolean
}

export interface ChallengeInput {
  /** The gateway's nonce: 1-512 visible ASCII characters. */
  nonce: string
  /** Milliseconds since the epoch when signing; defaults to `Date.now()`. */
  timestamp?: number
}

/** What an agent answers a challenge with. */
export interface SignedChallenge {
  id: string
  timestamp: number
  nonce: string
  /** Ed25519 signature of `challengeMessage(nonce, timestamp, id)`, base64url. */
  signature: string
}

function subtle(): SubtleCrypto {
  const crypto = (globalThis as { crypto?: Crypto }).crypto
  if (crypto?.subtle === undefined) {
    throw new IdentityError(
      'unsupported',
      'WebCrypto (globalThis.crypto.subtle) is not available in this runtime',
    )
  }
  return crypto.subtle
}

/** WebCrypto reports a missing algorithm as `NotSupportedError`; anything else is the caller's input. */
function isNotSupported(error: unknown): boolean {
  return error instanceof Error && error.name === 'NotSupportedError'
}

function unsupported(cause: unknown): IdentityError {
  return new IdentityError('unsupported', 'this runtime has no Ed25519 in WebCrypto', { cause })
}

/** The did:key of a raw 32-byte Ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key). */
export function didKeyFromPublicKey(raw: Uint8Array): string {
  if (!isUint8Array(raw) || raw.length !== PUBLIC_KEY_LENGTH) {
    throw new IdentityError('invalid_public_key', `an Ed25519 public key is ${PUBLIC_KEY_LENGTH} raw bytes`)
  }
  return ed25519DidKey(raw)
}

/** The raw 32-byte public key of an Ed25519 did:key; `IdentityError` (`invalid_did`) for anything else. */
export function publicKeyFromDidKey(did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX)) {
    throw new IdentityError('invalid_did', 'a did:key starts with did:key:z (multibase base58btc)')
  }
  if (base58BtcDecode(did.slice(DID_KEY_PREFIX.length)) === undefined) {
    throw new IdentityError('invalid_did', 'the did:key is not valid base58btc')
  }
  const key = ed25519KeyFromDidKey(did)
  if (key === undefined) {
    throw new IdentityError('invalid_did', 'the did:key does not hold a 32-byte Ed25519 public key (z6Mk…)')
  }
  return key
}

async function identityFromKeyPair(keyPair: CryptoKeyPair): Promise<AgentIdentity> {
  const raw = new Uint8Array(await subtle().exportKey('raw', keyPair.publicKey))
  return { id: didKeyFromPublicKey(raw), publicKey: base64UrlEncode(raw), keyPair }
}

/** A fresh Ed25519 key pair and its did:key. */
export async function generateIdentity(options: IdentityKeyOptions = {}): Promise<AgentIdentity> {
  let keyPair: CryptoKeyPair
  try {
    keyPair = await subtle().generateKey(ED25519, options.extractable ?? true, ['sign', 'verify'])
  } catch (error) {
    if (error instanceof IdentityError) throw error
    throw unsupported(error)
  }
  return identityFromKeyPair(keyPair)
}

/** The JSON-safe form of an identity. The result holds the private key: treat it as a secret. */
export async function exportIdentity(identity: AgentIdentity): Promise<IdentityFile> {
  if (!identity.keyPair.privateKey.extractable) {
    throw new IdentityError('not_extractable', 'the private key was created or imported as not extractable')
  }
  const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', identity.keyPair.privateKey))
  return {
    version: IDENTITY_FILE_VERSION,
    id: identity.id,
    publicKey: identity.publicKey,
    privateKey: base64UrlEncode(pkcs8),
  }
}

/**
 * Rebuilds an identity from `exportIdentity`'s output (or a parsed file). Refuses, with an `IdentityError`, a
 * file of another version, malformed keys, an id that is not the public key's did:key, and a private key
 * that does not belong to the public key (checked by signing and verifying a probe).
 */
export async function importIdentity(
  file: unknown,
  options: IdentityKeyOptions = {},
): Promise<AgentIdentity> {
  if (typeof file !== 'object' || file === null) {
    throw new IdentityError('invalid_file', 'an identity file is a JSON object')
  }
  const { version, id, publicKey, privateKey } = file as Record<string, unknown>
  if (version !== IDENTITY_FILE_VERSION) {
    throw new IdentityError('invalid_file', `unknown identity file version ${JSON.stringify(version)}`)
  }
  if (typeof id !== 'string' || typeof publicKey !== 'string' || typeof privateKey !== 'string') {
    throw new IdentityError('invalid_file', 'an identity file has string fields id, publicKey and privateKey')
  }
  const rawPublicKey = base64UrlDecode(publicKey)
  if (rawPublicKey === undefined || rawPublicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new IdentityError('invalid_public_key', 'publicKey is not 32 bytes of base64url')
  }
  const idKey = publicKeyFromDidKey(id)
  if (!equalBytes(idKey, rawPublicKey)) {
    throw new IdentityError('key_mismatch', 'id is not the did:key of publicKey')
  }
  const pkcs8 = base64UrlDecode(privateKey)
  if (pkcs8 === undefined) throw new IdentityError('invalid_private_key', 'privateKey is not base64url')

  const crypto = subtle()
  let keyPair: CryptoKeyPair
  try {
    keyPair = {
      privateKey: await crypto.importKey('pkcs8', pkcs8, ED25519, options.extractable ?? true, ['sign']),
      publicKey: await crypto.importKey('raw', rawPublicKey, ED25519, true, ['verify']),
    }
  } catch (error) {
    if (isNotSupported(error)) throw unsupported(error)
    throw new IdentityError('invalid_private_key', 'privateKey is not an Ed25519 PKCS#8 key', {
      cause: error,
    })
  }
  // PKCS#8 Ed25519 keys need not carry their public key, so the pair is checked by using it.
  const probe = new TextEncoder().encode(`${CHALLENGE_CONTEXT} key check\n${id}`)
  const signature = await crypto.sign(ED25519, keyPair.privateKey, probe)
  if (!(await crypto.verify(ED25519, keyPair.publicKey, signature, probe))) {
    throw new IdentityError('key_mismatch', 'privateKey does not belong to publicKey')
  }
  return { id, publicKey, keyPair }
}

// Visible ASCII only: no newline can shift the fields, and no Unicode normalisation can change the bytes.
const CHALLENGE_FIELD = /^[\x21-\x7e]{1,512}$/

/**
 * The exact text an agent signs to answer the gateway's challenge, shared by both sides:
 * `parley-auth-v1\n<nonce>\n<timestamp>\n<id>`. Throws `IdentityError` (`invalid_challenge`) when the nonce or
 * id is not 1-512 visible ASCII characters or the timestamp is not a non-negative integer (milliseconds).
 */
export function challengeMessage(nonce: string, timestamp: number, id: string): string {
  if (typeof nonce !== 'string' || !CHALLENGE_FIELD.test(nonce)) {
    throw new IdentityError('invalid_challenge', 'the nonce must be 1-512 visible ASCII characters')
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new IdentityError(
      'invalid_challenge',
      'the timestamp must be a non-negative integer (ms since epoch)',
    )
  }
  if (typeof id !== 'string' || !CHALLENGE_FIELD.test(id)) {
    throw new IdentityError('invalid_challenge', 'the id must be 1-512 visible ASCII characters')
  }
  return `${CHALLENGE_CONTEXT}\n${nonce}\n${timestamp}\n${id}`
}

/** Signs the gateway's nonce with a timestamp (now, unless given) as the identity. */
export async function signChallenge(
  identity: AgentIdentity,
  challenge: ChallengeInput,
): Promise<SignedChallenge> {
  const timestamp = challenge.timestamp ?? Date.now()
  const message = new TextEncoder().encode(challengeMessage(challenge.nonce, timestamp, identity.id))
  const signature = new Uint8Array(await subtle().sign(ED25519, identity.keyPair.privateKey, message))
  return { id: identity.id, timestamp, nonce: challenge.nonce, signature: base64UrlEncode(signature) }
}

/**
 * Whether `signed` is a valid answer by the key given (raw 32 bytes, or its did:key): the signature must
 * verify over `challengeMessage(signed.nonce, signed.timestamp, signed.id)` and `signed.id` must be that key's
 * did:key. Anything malformed in `signed` is `false`; a malformed key argument throws `IdentityError`.
 * Freshness is the caller's job: the gateway checks the nonce is the one it issued, unused, and the timestamp
 * recent.
 */
export async function verifyChallenge(
  publicKeyOrDid: Uint8Array | string,
  signed: SignedChallenge,
): Promise<boolean> {
  const raw = typeof publicKeyOrDid === 'string' ? publicKeyFromDidKey(publicKeyOrDid) : publicKeyOrDid
  const did = didKeyFromPublicKey(raw)
  if (typeof signed !== 'object' || signed === null) return false
  const { id, nonce, timestamp, signature } = signed
  if (id !== did || typeof signature !== 'string') return false
  let message: Uint8Array<ArrayBuffer>
  try {
    message = new TextEncoder().encode(challengeMessage(nonce, timestamp, id))
  } catch {
    return false
  }
  const signatureBytes = base64UrlDecode(signature)
  if (signatureBytes === undefined || signatureBytes.length !== SIGNATURE_LENGTH) return false
  const crypto = subtle()
  let publicKey: CryptoKey
  try {
    publicKey = await crypto.importKey('raw', new Uint8Array(raw), ED25519, true, ['verify'])
  } catch (error) {
    if (isNotSupported(error)) throw unsupported(error)
    // Not a point on the curve: nothing can verify against it.
    return false
  }
  return crypto.verify(ED25519, publicKey, signatureBytes, message)
}

/** Not `instanceof`: bytes from another realm (an iframe, a worker's structured clone, node:vm) count too. */
function isUint8Array(value: unknown): value is Uint8Array {
  return Object.prototype.toString.call(value) === '[object Uint8Array]'
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false
  return true
}
