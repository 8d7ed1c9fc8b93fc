import { DELIVERY_KINDS, DeadLetterQuery, type DeliveryKind } from '@parley/protocol/admin'
import { describeIssues, readFields, type SearchParamsLike, toSearchParams } from './search-params'

/** What the operator can filter the dead-letter queue by; a purge of "all matching" uses the same filters. */
export interface DeadLetterFilters {
  recipient?: string
  channel?: string
  kind?: DeliveryKind
}

/** One request for a page of the dead-letter queue. */
export interface DeadLetterRequest extends DeadLetterFilters {
  cursor?: string
  limit?: number
}

const FILTER_FIELDS = ['recipient', 'channel', 'kind'] as const
// A fixed order keeps query strings (and so cache keys and URLs) stable for equal filters.
const REQUEST_FIELDS = [...FILTER_FIELDS, 'cursor', 'limit'] as const

export function isDeliveryKind(value: string): value is DeliveryKind {
  return (DELIVERY_KINDS as readonly string[]).includes(value)
}

/** Query string of `GET /api/admin/dlq` (and of the `/deliveries` page): empty fields are left out. */
export function deadLetterSearchParams(request: DeadLetterRequest): URLSearchParams {
  return toSearchParams(request, REQUEST_FIELDS)
}

/**
 * Query string of `DELETE /api/admin/dlq`: the filters only. A cursor or limit here would not narrow the
 * purge (the gateway ignores them), so they are never sent and the confirmation names exactly what goes.
 */
export function purgeSearchParams(filters: DeadLetterFilters): URLSearchParams {
  return deadLetterSearchParams(normaliseDeadLetterFilters(filters))
}

/** The filters alone, normalised (trimmed, empties and unknown kinds dropped), for query keys and URLs. */
export function normaliseDeadLetterFilters(filters: DeadLetterFilters): DeadLetterFilters {
  const normalised: DeadLetterFilters = {}
  const recipient = filters.recipient?.trim()
  if (recipient !== undefined && recipient !== '') normalised.recipient = recipient
  const channel = filters.channel?.trim()
  if (channel !== undefined && channel !== '') normalised.channel = channel
  const kind = filters.kind?.trim()
  if (kind !== undefined && isDeliveryKind(kind)) normalised.kind = kind
  return normalised
}

/** True when no filter is set: a purge would empty the whole queue. */
export function hasNoFilter(filters: DeadLetterFilters): boolean {
  return Object.keys(normaliseDeadLetterFilters(filters)).length === 0
}

/** `recipient "billing", kind direct`: the filters in words, for the purge confirmation. */
export function describeDeadLetterFilters(filters: DeadLetterFilters): string {
  const normalised = normaliseDeadLetterFilters(filters)
  const parts: string[] = []
  if (normalised.recipient !== undefined) parts.push(`recipient ${JSON.stringify(normalised.recipient)}`)
  if (normalised.channel !== undefined) parts.push(`channel ${JSON.stringify(normalised.channel)}`)
  if (normalised.kind !== undefined) parts.push(`kind ${normalised.kind}`)
  return parts.length === 0 ? 'no filter' : parts.join(', ')
}

export type ParsedDeadLetterRequest =
  | { ok: true; request: DeadLetterRequest }
  | { ok: false; message: string }

const FIELD_HINTS: Record<string, string> = {
  kind: `kind must be one of ${DELIVERY_KINDS.join(', ')}`,
  recipient: 'recipient must be at most 200 characters',
  channel: 'channel must be at most 200 characters',
  cursor: 'cursor is not one the gateway gave',
  limit: 'limit must be a whole number from 1 to 500',
}

/**
 * Validates a dead-letter request from a URL (the `/deliveries` page's search params or the `/api/gw/dlq`
 * route) with the protocol's `DeadLetterQuery`, so a bad filter is reported here instead of round-tripping.
 */
export function parseDeadLetterRequest(source: SearchParamsLike): ParsedDeadLetterRequest {
  const raw = readFields(source, REQUEST_FIELDS)
  const parsed = DeadLetterQuery.safeParse(raw)
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, FIELD_HINTS) }
  const { limit, ...rest } = parsed.data
  // Only keep the limit when it was asked for: the gateway's default applies otherwise.
  const request: DeadLetterRequest = raw.limit === undefined ? rest : { ...rest, limit }
  return { ok: true, request }
}
