import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@parley/protocol'

/** The `google.rpc.ErrorInfo` type URL A2A error details use. */
const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo'
export const PARLEY_ERROR_DOMAIN = 'parley'

/**
 * JSON-RPC codes of the gateway's own refusals, in the server-defined range (-32000 to -32099) beside A2A's
 * -32001 … -32009. The Parley error code and, for a policy, the rule travel in `data[0].metadata`.
 */
export const A2A_REFUSAL_CODES: Partial<Record<ErrorCode, number>> = {
  policy_denied: -32040,
  introduction_required: -32041,
  no_route: -32042,
  agent_unavailable: -32042,
  rate_limited: -32043,
  payload_too_large: -32044,
}

/** JSON-RPC's own codes the routes answer before the SDK sees the request. */
export const JSON_RPC_PARSE_ERROR = -32700
export const JSON_RPC_INTERNAL_ERROR = -32603

export interface JsonRpcError {
  code: number
  message: string
  data?: unknown
}

/** A Parley error as a JSON-RPC error object: the refusal code, the message, and the details as ErrorInfo. */
export function jsonRpcRefusal(error: ErrorBody): JsonRpcError {
  const metadata: Record<string, string> = { code: error.code }
  const rule = (error.details as { rule?: unknown } | undefined)?.rule
  if (typeof rule === 'string') metadata.rule = rule
  if (error.retryAfterMs !== undefined) metadata.retryAfterMs = String(error.retryAfterMs)
  return {
    code: A2A_REFUSAL_CODES[error.code] ?? JSON_RPC_INTERNAL_ERROR,
    message: error.message,
    data: [
      { '@type': ERROR_INFO_TYPE, reason: error.code.toUpperCase(), domain: PARLEY_ERROR_DOMAIN, metadata },
    ],
  }
}

/** A JSON-RPC request id as an answer may echo it: a string or number, else null. */
export function jsonRpcId(id: unknown): string | number | null {
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

export function jsonRpcErrorResponse(id: unknown, error: JsonRpcError) {
  return { jsonrpc: '2.0' as const, id: jsonRpcId(id), error }
}

/** The google.rpc status names of HTTP statuses, for the HTTP+JSON binding's error body. */
const REST_STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

/** A Parley error as the HTTP+JSON binding's error answer: the status from the error-code table. */
export function restRefusal(error: ErrorBody): { status: number; body: unknown } {
  const status = ERROR_CODES[error.code].status
  const [detail] = jsonRpcRefusal(error).data as unknown[]
  return {
    status,
    body: {
      error: {
        code: status,
        status: REST_STATUS_NAMES[status] ?? 'UNKNOWN',
        message: error.message,
        details: [detail],
      },
    },
  }
}
