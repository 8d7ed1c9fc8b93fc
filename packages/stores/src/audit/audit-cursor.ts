import { decodeCursorPair, encodeCursorPair } from '../cursor.js'
import { InvalidCursorError } from '../errors.js'

/**
 * Position of the last row of a page in the (time desc, id desc) order. `time` keeps the database's full
 * precision (microseconds on Postgres) so rows sharing a millisecond are neither skipped nor repeated.
 */
export interface AuditCursor {
  /** UTC ISO 8601 with 0 to 6 fraction digits, e.g. `2025-01-02T03:04:05.123456Z`. */
  time: string
  /** Microseconds since the epoch, parsed from `time`, for in-memory comparisons. */
  timeMicros: bigint
  /** Row id as a decimal string. */
  id: string
}

const ISO_UTC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/
const DECIMAL_ID = /^[1-9]\d{0,18}$/
const MAX_CURSOR_LENGTH = 200

export function encodeAuditCursor(time: string, id: string): string {
  return encodeCursorPair(time, id)
}

/** Decodes a cursor produced by `encodeAuditCursor`; anything else throws `InvalidCursorError`. */
export function decodeAuditCursor(cursor: string): AuditCursor {
  const [time, id] = decodeCursorPair(cursor, MAX_CURSOR_LENGTH)
  if (typeof time !== 'string' || typeof id !== 'string' || !DECIMAL_ID.test(id)) {
    throw new InvalidCursorError()
  }
  const match = ISO_UTC.exec(time)
  const whole = match?.[1]
  if (whole === undefined) throw new InvalidCursorError()
  const seconds = Date.parse(`${whole}Z`)
  // Date.parse accepts impossible dates such as Feb 30 by rolling over; the round trip catches them.
  if (Number.isNaN(seconds) || new Date(seconds).toISOString().slice(0, 19) !== whole) {
    throw new InvalidCursorError()
  }
  const fraction = (match?.[2] ?? '').padEnd(6, '0')
  if (BigInt(id) > 9_223_372_036_854_775_807n) throw new InvalidCursorError()
  return { time, timeMicros: BigInt(seconds) * 1000n + BigInt(fraction), id }
}

/** Microseconds since the epoch of a JS date (millisecond precision). */
export function dateToMicros(date: Date): bigint {
  return BigInt(date.getTime()) * 1000n
}
