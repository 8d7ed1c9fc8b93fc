import { AUDIT_KINDS, type AuditKind, AuditQuery } from '@parley/protocol/admin'
import { describeIssues, readFields, type SearchParamsLike, toSearchParams } from './search-params'

/** What the operator can filter the audit trail by. Times are ISO 8601 with an offset (UTC here). */
export interface AuditFilters {
  kind?: AuditKind
  principal?: string
  channel?: string
  since?: string
  until?: string
}

/** One request for a page of the audit trail. */
export interface AuditRequest extends AuditFilters {
  cursor?: string
  limit?: number
}

const FILTER_FIELDS = ['kind', 'principal', 'channel', 'since', 'until'] as const
// A fixed order keeps query strings (and so cache keys and URLs) stable for equal filters.
const REQUEST_FIELDS = [...FILTER_FIELDS, 'cursor', 'limit'] as const

export function isAuditKind(value: string): value is AuditKind {
  return (AUDIT_KINDS as readonly string[]).includes(value)
}

/** Query string of `GET /api/admin/audit` (and of the dashboard's `/audit` page): empty fields are left out. */
export function auditSearchParams(request: AuditRequest): URLSearchParams {
  return toSearchParams(request, REQUEST_FIELDS)
}

/** The filters alone, normalised (trimmed, empties dropped), for query keys and URLs. */
export function normaliseFilters(filters: AuditFilters): AuditFilters {
  const normalised: AuditFilters = {}
  for (const field of FILTER_FIELDS) {
    const text = filters[field]?.trim()
    if (text === undefined || text === '') continue
    if (field === 'kind') {
      if (isAuditKind(text)) normalised.kind = text
    } else {
      normalised[field] = text
    }
  }
  return normalised
}

export type ParsedAuditRequest = { ok: true; request: AuditRequest } | { ok: false; message: string }

/**
 * Validates an audit request from a URL (the `/audit` page's search params or the `/api/gw/audit` route)
 * with the protocol's `AuditQuery`, so a bad filter is reported here instead of round-tripping.
 */
export function parseAuditRequest(source: SearchParamsLike): ParsedAuditRequest {
  const raw = readFields(source, REQUEST_FIELDS)
  const parsed = AuditQuery.safeParse(raw)
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, FIELD_HINTS) }
  const rangeError = timeRangeError(parsed.data.since, parsed.data.until)
  if (rangeError !== undefined) return { ok: false, message: rangeError }
  const { limit, ...rest } = parsed.data
  // Only keep the limit when it was asked for: the gateway's default applies otherwise.
  const request: AuditRequest = raw.limit === undefined ? rest : { ...rest, limit }
  return { ok: true, request }
}

const FIELD_HINTS: Record<string, string> = {
  kind: `kind must be one of ${AUDIT_KINDS.join(', ')}`,
  since: 'since must be an ISO 8601 date and time with a time zone, e.g. 2025-05-01T10:30:00Z',
  until: 'until must be an ISO 8601 date and time with a time zone, e.g. 2025-05-01T10:30:00Z',
  limit: 'limit must be a whole number from 1 to 500',
  principal: 'principal must be at most 200 characters',
  channel: 'channel must be at most 200 characters',
  cursor: 'cursor is not one the gateway gave',
}

/**
 * `since` is inclusive and `until` exclusive, so a window whose start is not before its end matches
 * nothing: say so rather than show an empty table.
 */
export function timeRangeError(since: string | undefined, until: string | undefined): string | undefined {
  if (since === undefined || until === undefined) return undefined
  const start = Date.parse(since)
  const end = Date.parse(until)
  if (Number.isNaN(start) || Number.isNaN(end) || start < end) return undefined
  return 'since must be before until'
}

/**
 * What an operator types in a time filter, read as UTC in 24-hour time: `2024-05-01 10:30`, with seconds
 * (`10:30:15`), a `T` instead of the space, and a trailing `Z` or `UTC` all accepted; a bare date is its
 * midnight. ISO 8601 out, undefined for anything else (say a 12-hour `10:30 PM`).
 */
export function utcInputToIso(value: string): string | undefined {
  const trimmed = value.trim().replace(/\s*(UTC|Z)$/i, '')
  if (trimmed === '') return undefined
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(trimmed)
  if (match === null) return undefined
  const [, day, hours = '00', minutes = '00', seconds = '00'] = match
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined
  const date = new Date(`${day}T${hours}:${minutes}:${seconds}Z`)
  // `2024-02-31` parses to March: refuse a day the month does not have.
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== day) return undefined
  return date.toISOString()
}

/** The inverse of `utcInputToIso`: an ISO time as the filter shows it, `2024-05-01 10:30:00` (UTC). */
export function isoToUtcInput(iso: string | undefined): string {
  if (iso === undefined) return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 19).replace('T', ' ')
}

/** The filter text for `minutes` before `now` (epoch ms): the "last 15 min / 1 h / 24 h" shortcuts. */
export function utcInputMinutesBefore(now: number, minutes: number): string {
  return isoToUtcInput(new Date(now - minutes * 60_000).toISOString())
}
