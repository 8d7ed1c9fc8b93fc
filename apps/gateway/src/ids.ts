import { randomFillSync } from 'node:crypto'

export type IdPrefix =
  | 'a2a'
  | 'mcp'
  | 'con'
  | 'ses'
  | 'client'
  | 'msg'
  | 'dlv'
  | 'node'
  | 'pol'
  | 'hs'
  | 'rld'
  | 'agt'
  | 'req'
  | 'str'
  | 'hst'

/** The one id generator: a readable prefix plus 128 random bits as 32 lowercase hex digits. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomHex()}`
}

const RANDOM_ID_BYTES = 16
// Random bytes for 256 ids, drawn at once: one `randomBytes(16)` call per request cost ~20x more than slicing
// a pool, and `randomUUID()` (pooled too) plus removing its dashes cost twice as much as this on the request
// path. Bytes are handed out once each, never reused.
const randomPool = Buffer.allocUnsafe(RANDOM_ID_BYTES * 256)
let randomOffset = randomPool.length
const INVALID_TRACE_ID = '0'.repeat(RANDOM_ID_BYTES * 2)

function randomHex(): string {
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool)
    randomOffset = 0
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + RANDOM_ID_BYTES)
  randomOffset += RANDOM_ID_BYTES
  return hex
}

/** A W3C trace id (32 lowercase hex digits, 128 random bits) for requests that came without one. */
export function newTraceId(): string {
  const traceId = randomHex()
  // All zeros is the one invalid W3C trace id; at 1 in 2^128 it is drawn again rather than handed out.
  return traceId === INVALID_TRACE_ID ? newTraceId() : traceId
}
