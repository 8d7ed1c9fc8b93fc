import { decodeCursorPair, encodeCursorPair } from '../cursor.js'
import { InvalidCursorError } from '../errors.js'

/** Position of the last dead letter of a page in the (deadAt desc, id desc) order. */
export interface DeadLetterCursor {
  /** Epoch milliseconds. */
  deadAt: number
  id: string
}

const MAX_CURSOR_LENGTH = 400
const MAX_ID_LENGTH = 200

export function encodeDeadLetterCursor(cursor: DeadLetterCursor): string {
  return encodeCursorPair(cursor.deadAt, cursor.id)
}

/** Decodes a cursor produced by `encodeDeadLetterCursor`; anything else throws `InvalidCursorError`. */
export function decodeDeadLetterCursor(cursor: string): DeadLetterCursor {
  const [deadAt, id] = decodeCursorPair(cursor, MAX_CURSOR_LENGTH)
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
