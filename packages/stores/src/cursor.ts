import { InvalidCursorError } from './errors.js'

/**
 * Page cursors are a two-element JSON array in base64url: opaque to clients, and anything that is not one
 * of ours is refused with `InvalidCursorError` before its fields are looked at.
 */

export function encodeCursorPair(first: unknown, second: unknown): string {
  return Buffer.from(JSON.stringify([first, second]), 'utf8').toString('base64url')
}

/** The two raw elements of a cursor made by `encodeCursorPair`, for the caller to validate. */
export function decodeCursorPair(cursor: string, maxLength: number): [unknown, unknown] {
  // Cursors are short; anything longer is not ours and is refused before decoding.
  if (cursor.length === 0 || cursor.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError()
  }
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError()
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new InvalidCursorError()
  return [decoded[0], decoded[1]]
}
