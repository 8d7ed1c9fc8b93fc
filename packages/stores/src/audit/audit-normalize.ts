import type { AuditFilter, AuditRecord } from './audit-log.js'

/** Longest text kept per field. The buffer is bounded in rows; this bounds it in bytes too. */
export const MAX_AUDIT_TEXT_LENGTH = 2000
export const DEFAULT_AUDIT_PAGE_SIZE = 50
export const MAX_AUDIT_PAGE_SIZE = 500
const MAX_INT32 = 2_147_483_647
// Years 1 to 9999: what a four-digit ISO 8601 year (and so every driver and Postgres) agrees on.
const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z')
const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z')

// NUL, and a surrogate without its pair (left by cutting at MAX_AUDIT_TEXT_LENGTH or sent that way): UTF-8
// cannot encode it. The drivers used to turn it into U+FFFD on the way; as a JSON escape Postgres refuses it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the character Postgres `text` refuses.
const UNSTORABLE_CHARACTERS = /\u0000|\p{Surrogate}/gu

/** An audit record with every field present and safe to store. */
export interface NormalizedAuditRecord {
  time: Date
  kind: AuditRecord['kind']
  outcome: AuditRecord['outcome']
  principal: string | null
  clientId: string | null
  connectionId: string | null
  channel: string | null
  target: string | null
  size: number | null
  detail: string | null
  traceId: string | null
  correlationId: string | null
  latencyMs: number | null
}

/**
 * Makes a record storable without ever throwing: one bad value must not fail a whole batch. Postgres
 * `text` refuses NUL characters and unpaired surrogates, `integer` refuses fractions and values beyond 32 bits, and a time outside
 * years 1-9999 is not accepted as a `timestamptz` literal (it takes the moment of `record()` instead).
 */
export function normalizeAuditRecord(entry: AuditRecord, now: Date = new Date()): NormalizedAuditRecord {
  const time = entry.time instanceof Date && isStorableTime(entry.time.getTime()) ? entry.time : now
  return {
    time,
    kind: entry.kind,
    outcome: entry.outcome,
    principal: cleanText(entry.principal),
    clientId: cleanText(entry.clientId),
    connectionId: cleanText(entry.connectionId),
    channel: cleanText(entry.channel),
    target: cleanText(entry.target),
    size: cleanSize(entry.size),
    detail: cleanText(entry.detail),
    traceId: cleanText(entry.traceId),
    correlationId: cleanText(entry.correlationId),
    latencyMs: cleanSize(entry.latencyMs),
  }
}

function isStorableTime(ms: number): boolean {
  return ms >= MIN_TIME_MS && ms <= MAX_TIME_MS
}

function cleanText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null
  const text = typeof value === 'string' ? value : String(value)
  return text.slice(0, MAX_AUDIT_TEXT_LENGTH).replace(UNSTORABLE_CHARACTERS, '\uFFFD')
}

function cleanSize(value: number | null | undefined): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null
  return Math.min(Math.trunc(value), MAX_INT32)
}

/** The names of one side of a conversation (see `ConversationFilter`). */
export function conversationParty(party: string | readonly string[]): readonly string[] {
  return typeof party === 'string' ? [party] : party
}

/** Whether a row is part of the conversation between `a` and `b` (see `ConversationFilter`). */
export function inConversation(
  row: { principal: string | null; clientId: string | null; target: string | null },
  a: readonly string[],
  b: readonly string[],
): boolean {
  const from = (party: readonly string[]) =>
    (row.principal !== null && party.includes(row.principal)) ||
    (row.clientId !== null && party.includes(row.clientId))
  const to = (party: readonly string[]) => row.target !== null && party.includes(row.target)
  return (from(a) && to(b)) || (from(b) && to(a))
}

/** Page size clamped to 1-500; a missing or non-numeric limit gets the default. */
export function pageSize(filter: Pick<AuditFilter, 'limit'>): number {
  const { limit } = filter
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return DEFAULT_AUDIT_PAGE_SIZE
  return Math.min(MAX_AUDIT_PAGE_SIZE, Math.max(1, Math.trunc(limit)))
}
