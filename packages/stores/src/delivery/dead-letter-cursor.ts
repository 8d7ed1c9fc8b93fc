import { InvalidCursorError } from '../errors.js'

/** Position of the last dead letter of a page in the (deadAt desc, id desc) order. */
export interface DeadLetterCursor {
  /** Epoch milliseconds. */
  deadAt: number
  id: string
}

// Cursors are short; anything longer is not ours and is refused before decoding.
const MAX_CURSOR_LENGTH = 400
const MAX_ID_LENGTH = 200

export function encodeDeadLetterCursor(cursor: DeadLetterCursor): string {
  return Buffer.from(JSON.stringify([cursor.deadAt, cursor.id]), 'utf8').toString('base64url')
}

/** Decodes a cursor produced by `encodeDeadLetterCursor`; anything else throws `InvalidCursorError`. */
export function decodeDeadLetterCursor(cursor: string): DeadLetterCursor {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError()
  }
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError()
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new InvalidCursorError()
  const [deadAt, id] = decoded as unknown[]
  if (
    typeof deadAt !== 'number' ||
    !Number.isSafeInteger(deadAt) ||
    deadAt < 0 ||
    typeof id !== 'string' ||
    id.length === 0 ||
    id.length > MAX_ID_LENGTH
  ) {
    throw new InvalidCursorError()
  }
  return { deadAt, id }
}
