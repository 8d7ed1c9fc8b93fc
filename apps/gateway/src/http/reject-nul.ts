import type { MiddlewareHandler } from 'hono'
import { errorResponse } from './error-envelope.js'

/** `%00` anywhere in the URL; `%2500` (an encoded `%`) does not match. */
const ENCODED_NUL = /%00/i

/**
 * No id, path segment or query value of ours may hold a NUL character, and Postgres text columns refuse one
 * with an error that would surface as a 500: such a URL is turned away here, before any store sees it.
 */
export const rejectNulInUrl: MiddlewareHandler = async (c, next) => {
  if (ENCODED_NUL.test(c.req.url) || c.req.url.includes('\u0000')) {
    return errorResponse(c, 'bad_request', 'the URL must not contain NUL characters (%00)')
  }
  await next()
}

/** The path (`scopes.0`) of the first string holding a NUL character in a parsed JSON value, if any. */
export function findNulCharacter(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || 'body' : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key].join('.')
    const found = findNulCharacter(item, [...path, key])
    if (found !== undefined) return found
  }
  return undefined
}
