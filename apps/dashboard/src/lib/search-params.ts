import type { z } from 'zod'

/**
 * URL query strings of the dashboard's filtered lists (`/deliveries`, `/audit` and their `/api/gw` routes):
 * built in a fixed field order and read back field by field, so equal filters give equal URLs and cache keys.
 */

/** A page's `searchParams` (a record from Next) or a route's `URLSearchParams`. */
export type SearchParamsLike = URLSearchParams | Record<string, string | string[] | undefined>

/** The query string of `request`'s `fields`, in that order; empty fields are left out. */
export function toSearchParams<Request extends object>(
  request: Request,
  fields: readonly (keyof Request & string)[],
): URLSearchParams {
  const params = new URLSearchParams()
  for (const field of fields) {
    const value = request[field]
    if (value === undefined) continue
    const text = String(value).trim()
    if (text !== '') params.set(field, text)
  }
  return params
}

/** `?query`, or nothing for an empty query string. */
export function withQuery(query: string): string {
  return query === '' ? '' : `?${query}`
}

/** The trimmed, non-empty first value of each of `fields` in a URL, for a zod schema to validate. */
export function readFields(source: SearchParamsLike, fields: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {}
  for (const field of fields) {
    const value = firstValue(source, field)?.trim()
    if (value !== undefined && value !== '') raw[field] = value
  }
  return raw
}

/** One line per wrong field, naming it and what it should be (`hints` by field, else zod's message). */
export function describeIssues(error: z.ZodError, hints: Record<string, string>): string {
  const lines = error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '')
    return hints[field] ?? (field === '' ? issue.message : `${field}: ${issue.message}`)
  })
  return [...new Set(lines)].join('; ')
}

function firstValue(source: SearchParamsLike, field: string): string | undefined {
  if (source instanceof URLSearchParams) return source.get(field) ?? undefined
  const value = source[field]
  return Array.isArray(value) ? value[0] : value
}
