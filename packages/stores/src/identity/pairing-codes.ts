import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { StoreError } from '../errors.js'
import type { PairingStoreOptions } from './types.js'

/** No 0/O, 1/I/L: a code read aloud or copied from a chat is typed right. */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
export const PAIRING_CODE_LENGTH = 8
export const DEFAULT_PAIRING_CODE_TTL_MS = 3_600_000
export const DEFAULT_MAX_PENDING_PER_CHANNEL_TYPE = 100
export const DEFAULT_MAX_FAILED_ATTEMPTS = 5
/** The channel type of a request whose connector did not name one (the reference's default). */
export const DEFAULT_CHANNEL_TYPE = 'unknown'

export interface ResolvedPairingOptions {
  secret: Uint8Array
  codeTtlMs: number
  maxPendingPerChannelType: number
  maxFailedAttempts: number
}

export function resolvePairingOptions(options: PairingStoreOptions): ResolvedPairingOptions {
  if (!(options.secret instanceof Uint8Array) || options.secret.length < 32) {
    throw new StoreError('bad_request', 'The pairing secret must be at least 32 bytes.')
  }
  const resolved = {
    secret: Uint8Array.from(options.secret),
    codeTtlMs: options.codeTtlMs ?? DEFAULT_PAIRING_CODE_TTL_MS,
    maxPendingPerChannelType: options.maxPendingPerChannelType ?? DEFAULT_MAX_PENDING_PER_CHANNEL_TYPE,
    maxFailedAttempts: options.maxFailedAttempts ?? DEFAULT_MAX_FAILED_ATTEMPTS,
  }
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value > 0)) {
      throw new StoreError('bad_request', `The pairing option ${name} must be a positive integer.`)
    }
  }
  return resolved
}

/** `pair_` + 22 base64url characters (128 random bits). */
export function newPairingRequestId(): string {
  return `pair_${randomBytes(16).toString('base64url')}`
}

/**
 * The code of a request, derived from its id with the server secret: it can be recomputed for a repeat
 * and need not be stored. 64 bits of the HMAC reduced to 8 base-31 digits (bias below 2^-24).
 */
export function pairingCodeFor(secret: Uint8Array, requestId: string): string {
  const digest = createHmac('sha256', secret).update(`parley.pairing.code\0${requestId}`).digest()
  let value = digest.readBigUInt64BE(0)
  const base = BigInt(PAIRING_CODE_ALPHABET.length)
  let code = ''
  for (let index = 0; index < PAIRING_CODE_LENGTH; index += 1) {
    code += PAIRING_CODE_ALPHABET.charAt(Number(value % base))
    value /= base
  }
  return code
}

/** What a user may type for a code: any case, spaces and dashes ignored. */
export function normalizePairingCode(code: string): string {
  return typeof code === 'string' ? code.replace(/[\s-]/g, '').toUpperCase() : ''
}

/** The stored, searchable form of a code: HMAC-SHA-256 with the server secret, hex. */
export function pairingCodeHash(secret: Uint8Array, code: string): string {
  return createHmac('sha256', secret)
    .update(`parley.pairing.lookup\0${normalizePairingCode(code)}`)
    .digest('hex')
}

/** Whether a typed code is the one whose hash is stored, compared in constant time. */
export function pairingCodeMatches(secret: Uint8Array, code: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex')
  const actual = Buffer.from(pairingCodeHash(secret, code), 'hex')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** Parley pairs the sender who asked, so a request needs one. */
export function requireSender(channelId: string | undefined): string {
  if (typeof channelId !== 'string' || channelId === '') {
    throw new StoreError(
      'bad_request',
      'A pairing code is issued to a sender: pass the channelId of the chat user who asked.',
    )
  }
  return channelId
}
