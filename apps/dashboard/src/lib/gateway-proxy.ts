import type { AdminEndpointName } from '@parley/protocol/admin'
import type { z } from 'zod'
import { readJsonBody } from './access-forms'
import {
  agentListSearchParams,
  conversationSearchParams,
  grantListSearchParams,
  type Parsed,
  parseAgentListRequest,
  parseConversationRequest,
  parseGrantListRequest,
} from './agent-requests'
import { auditSearchParams, parseAuditRequest } from './audit-filters'
import type { AdminCallInput } from './dashboard-api'
import {
  deadLetterSearchParams,
  normaliseDeadLetterFilters,
  parseDeadLetterRequest,
  purgeSearchParams,
} from './dlq-filters'
import { findProxiedEndpoint } from './gateway-proxy-paths'
import { failed } from './gateway-result'
import { answerFromGateway, answerInvalid, answerWithResult, crossSiteRefusal } from './gateway-route'
import { isSameOriginRequest } from './same-origin'
import { describeIssues, readFields } from './search-params'
import {
  a2aTaskSearchParams,
  mcpToolsSearchParams,
  parseA2aTaskAgent,
  parseMcpToolsRequest,
} from './upstream-requests'

/**
 * The dashboard's one proxy to the gateway, `/api/gw/<path>` → `/api/admin/<path>` (and `/api/gw/health` →
 * `/health`), for the endpoints of the protocol's table only. In order: a path or method not in the table is a
 * 404 `not_found`; a request that changes something is refused cross-site (403 `cross_site_request`, on top of
 * the `SameSite=Strict` cookie); path parameters out of bounds are 400 `invalid_id`, a bad query 400
 * `invalid_filter`, a body that is not the table's schema 400 `invalid_body`; then the gateway is called with
 * the session's token (401 without a session) and what was parsed, never the raw request.
 */
export async function forwardToGateway(request: Request): Promise<Response> {
  const url = new URL(request.url)
  const found = findProxiedEndpoint(request.method, url.pathname)
  if (found === undefined) {
    return answerWithResult(
      request,
      failed({
        kind: 'http',
        status: 404,
        code: 'not_found',
        message: `no gateway endpoint for ${request.method} ${url.pathname}`,
      }),
    )
  }
  const { name, endpoint, params } = found
  if (endpoint.method !== 'GET' && !isSameOriginRequest(request.headers)) return crossSiteRefusal(request)

  const badParam = paramProblem(name, params)
  if (badParam !== undefined) return answerInvalid(request, 'invalid_id', badParam)

  const query = readQuery(name, endpoint.query, url.searchParams)
  if (!query.ok) return answerInvalid(request, 'invalid_filter', query.message)

  let body: unknown
  if (endpoint.body !== undefined) {
    const read = await readJsonBody(request, endpoint.body, endpoint.bodyOptional === true)
    if (!read.ok) return answerInvalid(request, 'invalid_body', read.message)
    body = read.request
  }

  const input = { params, query: query.request, body } as AdminCallInput<typeof name>
  return answerFromGateway(request, (gateway) => gateway.call(name, input))
}

/**
 * Bounds of path parameters, checked before the gateway is called: those of the protocol where it has one
 * (`ApproveCodeRequest`, `RegisterAgentKeyRequest`, delivery ids); ids the gateway issues are far shorter than
 * the default.
 */
const DEFAULT_PARAM_LIMIT = 128
const PARAM_LIMITS: Readonly<Record<string, number>> = { channelType: 64, senderId: 256 }
const ENDPOINT_PARAM_LIMITS: Partial<Record<AdminEndpointName, { label: string; limit: number }>> = {
  revokeAgentKey: { label: 'agentKeyId', limit: 512 },
  deadLetter: { label: 'id', limit: 64 },
  requeueDeadLetter: { label: 'id', limit: 64 },
  purgeDeadLetter: { label: 'id', limit: 64 },
}

function paramProblem(name: AdminEndpointName, params: Record<string, string>): string | undefined {
  for (const [param, value] of Object.entries(params)) {
    const special = ENDPOINT_PARAM_LIMITS[name]
    const label = special?.label ?? (param in PARAM_LIMITS ? param : 'id')
    const limit = special?.limit ?? PARAM_LIMITS[param] ?? DEFAULT_PARAM_LIMIT
    if (value.length < 1 || value.length > limit) return `${label} must be 1 to ${limit} characters`
  }
  return undefined
}

type QueryReader = (source: URLSearchParams) => Parsed<URLSearchParams>

function reading<T>(parse: (source: URLSearchParams) => Parsed<T>, write: (request: T) => URLSearchParams) {
  return (source: URLSearchParams): Parsed<URLSearchParams> => {
    const parsed = parse(source)
    return parsed.ok ? { ok: true, request: write(parsed.request) } : parsed
  }
}

/**
 * The filters the dashboard reads itself (with its own messages naming each field, and the rules beyond the
 * schema: `since` before `until`, a role only with a principal), written back in a fixed field order.
 */
const QUERY_READERS: Partial<Record<AdminEndpointName, QueryReader>> = {
  audit: reading(parseAuditRequest, auditSearchParams),
  deadLetters: reading(parseDeadLetterRequest, deadLetterSearchParams),
  purgeDeadLetters: reading(parseDeadLetterRequest, (request) =>
    purgeSearchParams(normaliseDeadLetterFilters(request)),
  ),
  agents: reading(parseAgentListRequest, agentListSearchParams),
  grants: reading(parseGrantListRequest, grantListSearchParams),
  conversation: reading(parseConversationRequest, conversationSearchParams),
  a2aTask: reading(parseA2aTaskAgent, a2aTaskSearchParams),
  mcpTools: reading(parseMcpToolsRequest, mcpToolsSearchParams),
}

/** The query to forward: read by the dashboard's own reader, else checked with the table's schema. */
function readQuery(
  name: AdminEndpointName,
  schema: z.ZodType | undefined,
  source: URLSearchParams,
): Parsed<URLSearchParams | undefined> {
  const reader = QUERY_READERS[name]
  if (reader !== undefined) return reader(source)
  if (schema === undefined) return { ok: true, request: undefined }
  const fields = schemaFields(schema)
  const raw = readFields(source, fields)
  const parsed = schema.safeParse(raw)
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, {}) }
  // The fields as given (not the schema's defaults): the gateway applies its own.
  return { ok: true, request: new URLSearchParams(raw) }
}

function schemaFields(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape
  return shape === undefined ? [] : Object.keys(shape)
}
