/**
 * The one table of error codes. Every typed error a client sees, over WebSocket or HTTP, carries one of
 * these codes; the HTTP status is used by the admin API and the polling transport.
 */
export const ERROR_CODES = {
  invalid_json: { status: 400, retryable: false, description: 'The frame is not valid JSON text.' },
  invalid_frame: {
    status: 400,
    retryable: false,
    description: 'The frame is JSON but does not match the schema of its type.',
  },
  unknown_type: { status: 400, retryable: false, description: 'The frame type is not part of the protocol.' },
  bad_request: { status: 400, retryable: false, description: 'A request parameter is missing or invalid.' },
  unsupported_protocol: {
    status: 400,
    retryable: false,
    description: 'No protocol version is supported by both sides.',
  },
  handshake_required: {
    status: 400,
    retryable: false,
    description: 'The first frame on a connection must be `hello`.',
  },
  invalid_state: {
    status: 409,
    retryable: false,
    description: 'The request is not valid in the current state (for example a second `hello`).',
  },
  unauthorized: { status: 401, retryable: false, description: 'Credentials are missing or wrong.' },
  forbidden: { status: 403, retryable: false, description: 'The principal may not do this.' },
  invalid_signature: {
    status: 401,
    retryable: false,
    description: 'The identity signature does not verify with the registered key.',
  },
  unknown_identity: {
    status: 401,
    retryable: false,
    description: 'The identity is not registered (or its key was revoked).',
  },
  nonce_reused: {
    status: 401,
    retryable: false,
    description: 'The challenge nonce was not issued to this connection or was already used.',
  },
  stale_timestamp: {
    status: 401,
    retryable: false,
    description: 'The signed timestamp is too far from the gateway clock.',
  },
  pairing_denied: { status: 403, retryable: false, description: 'The operator denied the pairing request.' },
  pairing_expired: { status: 410, retryable: false, description: 'The pairing request expired.' },
  not_found: { status: 404, retryable: false, description: 'The named resource does not exist.' },
  conflict: { status: 409, retryable: false, description: 'The request conflicts with the current state.' },
  payload_too_large: {
    status: 413,
    retryable: false,
    description: 'The frame or body is larger than the configured limit.',
  },
  rate_limited: { status: 429, retryable: true, description: 'Too many requests; wait `retryAfterMs`.' },
  server_full: {
    status: 503,
    retryable: true,
    description: 'The gateway has reached `maxConnections`; retry later.',
  },
  shutting_down: { status: 503, retryable: true, description: 'The gateway is draining; reconnect later.' },
  unavailable: {
    status: 503,
    retryable: true,
    description: 'A dependency (database, bus) is unavailable; retry later.',
  },
  timeout: { status: 504, retryable: true, description: 'The operation did not complete in time.' },
  no_route: {
    status: 404,
    retryable: false,
    description: 'No agent (or peer) matches the target, or none is online to take it.',
  },
  loop_detected: {
    status: 508,
    retryable: false,
    description:
      'A chain of agent requests went deeper than `agents.maxHops`: agents calling each other in a loop.',
  },
  agent_error: {
    status: 502,
    retryable: false,
    description: 'The agent answered with an error; `details` carries its code and message.',
  },
  agent_unavailable: {
    status: 503,
    retryable: true,
    description:
      'The agent instance went away before answering (a request not marked idempotent is not retried).',
  },
  policy_denied: {
    status: 403,
    retryable: false,
    description: 'A policy rule (or the default effect) denies this; `details.rule` names the rule.',
  },
  introduction_required: {
    status: 403,
    retryable: false,
    description: 'A policy requires an accepted introduction (`introduce`) before this.',
  },
  introduction_rejected: {
    status: 403,
    retryable: false,
    description: 'The agent (or its policy) rejected the introduction.',
  },
  version_conflict: {
    status: 409,
    retryable: false,
    description: 'Compare-and-set failed: the key is at another version (`details.currentVersion`).',
  },
  flow_control: {
    status: 400,
    retryable: false,
    description: 'A stream sender sent more chunks than the receiver granted credit for.',
  },
  internal: { status: 500, retryable: true, description: 'An unexpected server error; details are logged.' },
} as const satisfies Record<string, { status: number; retryable: boolean; description: string }>

export type ErrorCode = keyof typeof ERROR_CODES
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]

/** The error envelope shared by `error` frames and HTTP error bodies. */
export interface ErrorBody {
  code: ErrorCode
  message: string
  retryable: boolean
  retryAfterMs?: number
  /** Machine-readable context of some codes (`rule`, `currentVersion`, an agent's own `code`). */
  details?: Record<string, unknown>
}

/** Builds an error body with the table's `retryable` flag. */
export function errorBody(
  code: ErrorCode,
  message: string,
  retryAfterMs?: number,
  details?: Record<string, unknown>,
): ErrorBody {
  const body: ErrorBody = { code, message, retryable: ERROR_CODES[code].retryable }
  if (retryAfterMs !== undefined) body.retryAfterMs = retryAfterMs
  if (details !== undefined) body.details = details
  return body
}
