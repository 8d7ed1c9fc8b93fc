import { randomFillSync, randomUUID } from 'node:crypto'

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

/** The one id generator: a readable prefix plus a random UUID without dashes. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`
}

const TRACE_ID_BYTES = 16
// Random bytes for 256 trace ids, drawn at once: one `randomBytes(16)` call per request cost ~20x more than
// slicing a pool (Node pools randomUUID the same way). Ids are handed out once each, never reused.
const traceIdPool = Buffer.allocUnsafe(TRACE_ID_BYTES * 256)
let traceIdOffset = traceIdPool.length
const INVALID_TRACE_ID = '0'.repeat(TRACE_ID_BYTES * 2)

/** A W3C trace id (32 lowercase hex digits, 128 random bits) for requests that came without one. */
export function newTraceId(): string {
  if (traceIdOffset === traceIdPool.length) {
    randomFillSync(traceIdPool)
    traceIdOffset = 0
  }
  const traceId = traceIdPool.toString('hex', traceIdOffset, traceIdOffset + TRACE_ID_BYTES)
  traceIdOffset += TRACE_ID_BYTES
  // All zeros is the one invalid W3C trace id; at 1 in 2^128 it is drawn again rather than handed out.
  return traceId === INVALID_TRACE_ID ? newTraceId() : traceId
}
