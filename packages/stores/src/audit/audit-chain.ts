import crypto, { createHash } from 'node:crypto'
import type { NormalizedAuditRecord } from './audit-normalize.js'

export type { AuditChainHead, AuditChainSource, AuditChainStore, ChainedAuditRow } from './audit-log.js'

/**
 * The audit hash chain. Each row stores its position `seq` (1, 2, 3, … no gaps), `prevHash` (the hash of the
 * row at `seq - 1`, or GENESIS_HASH for seq 1) and
 *
 *   hash = SHA-256( `${prevHash}\n${seq}\n${SHA-256(canonical form)}` )   (lowercase hex, ASCII text)
 *
 * The canonical form is the JSON text (ECMAScript `JSON.stringify`, UTF-8) of an object with exactly these
 * keys in this order: time, kind, outcome, principal, clientId, connectionId, channel, target, size, detail,
 * traceId, correlationId, latencyMs. `time` is ISO 8601 UTC with milliseconds (`2025-03-01T12:00:00.000Z`, a
 * time with sub-millisecond digits keeps all six), absent text fields are `null`, sizes are whole numbers or
 * `null`. The row's `id` is not hashed (the database assigns it after the hash is known); `seq` is.
 */

export const GENESIS_HASH = '0'.repeat(64)

/** The fields the canonical form covers, in its order. */
export type CanonicalAuditFields = Omit<NormalizedAuditRecord, 'time' | 'correlationId' | 'latencyMs'> & {
  time: string
  correlationId?: string | null
  latencyMs?: number | null
}

/** The canonical JSON text of a row (see above). */
export function canonicalAuditRow(row: CanonicalAuditFields): string {
  return JSON.stringify({
    time: row.time,
    kind: row.kind,
    outcome: row.outcome,
    principal: row.principal,
    clientId: row.clientId,
    connectionId: row.connectionId,
    channel: row.channel,
    target: row.target,
    size: row.size,
    detail: row.detail,
    traceId: row.traceId,
    correlationId: row.correlationId ?? null,
    latencyMs: row.latencyMs ?? null,
  })
}

// Node's one-shot hash (20.12 and later) is about twice as fast as a Hash object for short inputs.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash

export function sha256Hex(text: string): string {
  return oneShotHash === undefined
    ? createHash('sha256').update(text).digest('hex')
    : oneShotHash('sha256', text, 'hex')
}

/** The chain hash of the row at `seq` whose canonical form hashes to `digest`. */
export function chainHash(prevHash: string, seq: bigint, digest: string): string {
  return sha256Hex(`${prevHash}\n${seq}\n${digest}`)
}

/**
 * A time read from the database with six fraction digits, in the canonical spelling: three digits when the
 * last three are zeros (every time the gateway records), all six otherwise (so a changed microsecond shows).
 */
export function canonicalTime(micros: string): string {
  // What /\.(\d{3})000Z$/ → '.$1Z' does, without a regular expression per row (the verify walk's hot path).
  const length = micros.length
  return length >= 8 && micros.charCodeAt(length - 8) === 46 && micros.endsWith('000Z')
    ? `${micros.slice(0, length - 4)}Z`
    : micros
}
