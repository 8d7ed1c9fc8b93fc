import {
  AgentListQuery,
  ConversationQuery,
  type PolicyDefaultEffect as PolicyDefaultEffectSchema,
} from '@parley/protocol/admin'
import { z } from 'zod'
import { describeIssues, readFields, type SearchParamsLike, toSearchParams } from './search-params'

/**
 * Query strings of the agent lists (`/agents`, `/grants`, `/conversations`), built by the browser and the
 * gateway client alike and read back by the dashboard's `/api/gw` routes with the protocol's schemas.
 */

export type PolicyDefaultEffect = z.infer<typeof PolicyDefaultEffectSchema>

/** What the dashboard says about a deleted rule: the gateway itself answers 204 with no body. */
export const DeletedPolicyRule = z.object({ id: z.string(), deleted: z.literal(true) })
export type DeletedPolicyRule = z.infer<typeof DeletedPolicyRule>

export interface AgentListRequest {
  capability?: string
}

export interface GrantListRequest {
  /** Revoked grants too. */
  all?: boolean
}

export interface ConversationRequest {
  a: string
  b: string
  since?: string
  /** `newest`: newest first, the cursor going back; the gateway's default is `oldest`. */
  order?: 'oldest' | 'newest'
  cursor?: string
  limit?: number
}

export type Parsed<T> = { ok: true; request: T } | { ok: false; message: string }

const CONVERSATION_FIELDS = ['a', 'b', 'since', 'order', 'cursor', 'limit'] as const

const CONVERSATION_HINTS: Record<string, string> = {
  a: 'a: an agent id, client id or principal (1 to 200 characters)',
  b: 'b: an agent id, client id or principal (1 to 200 characters)',
  since: 'since must be an ISO 8601 time with an offset',
  order: 'order must be oldest or newest',
  cursor: 'cursor: up to 200 characters, from nextCursor',
  limit: 'limit must be a whole number from 1 to 500',
}

export function agentListSearchParams(request: AgentListRequest): URLSearchParams {
  return toSearchParams(request, ['capability'])
}

export function grantListSearchParams(request: GrantListRequest): URLSearchParams {
  return request.all === true ? new URLSearchParams({ all: 'true' }) : new URLSearchParams()
}

export function conversationSearchParams(request: ConversationRequest): URLSearchParams {
  return toSearchParams(request, CONVERSATION_FIELDS)
}

export function parseAgentListRequest(source: SearchParamsLike): Parsed<AgentListRequest> {
  const parsed = AgentListQuery.safeParse(readFields(source, ['capability']))
  if (!parsed.success) {
    return {
      ok: false,
      message: describeIssues(parsed.error, { capability: 'capability: letters, digits and _ - . : /' }),
    }
  }
  return {
    ok: true,
    request: parsed.data.capability === undefined ? {} : { capability: parsed.data.capability },
  }
}

export function parseGrantListRequest(source: SearchParamsLike): Parsed<GrantListRequest> {
  const { all } = readFields(source, ['all'])
  if (all === undefined || all === 'false') return { ok: true, request: {} }
  if (all === 'true') return { ok: true, request: { all: true } }
  return { ok: false, message: 'all must be true or false' }
}

export function parseConversationRequest(source: SearchParamsLike): Parsed<ConversationRequest> {
  const raw = readFields(source, CONVERSATION_FIELDS)
  const parsed = ConversationQuery.safeParse(raw)
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, CONVERSATION_HINTS) }
  const { limit, order, ...rest } = parsed.data
  // Only keep the limit and order when they were asked for: the gateway's defaults apply otherwise.
  return {
    ok: true,
    request: {
      ...rest,
      ...(raw.order === undefined ? {} : { order }),
      ...(raw.limit === undefined ? {} : { limit }),
    },
  }
}
