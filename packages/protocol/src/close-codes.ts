/**
 * The one table of WebSocket close codes. `reconnect` tells a client whether reconnecting can help:
 * the SDK stops retrying on codes where it is false.
 */
export const CLOSE_CODES = {
  normal: { code: 1000, reconnect: false, description: 'Closed on purpose by either side.' },
  going_away: {
    code: 1001,
    reconnect: true,
    description: 'The gateway is shutting down (after a `shutdown` frame).',
  },
  protocol_error: { code: 1002, reconnect: true, description: 'The peer broke the WebSocket protocol.' },
  invalid_payload: {
    code: 1007,
    reconnect: true,
    description: 'A text frame was not valid UTF-8; the transport closes the connection.',
  },
  message_too_big: {
    code: 1009,
    reconnect: true,
    description: 'A frame exceeded the hard transport limit (4 x maxPayload).',
  },
  internal_error: { code: 1011, reconnect: true, description: 'An unexpected server error.' },
  unauthorized: {
    code: 4001,
    reconnect: false,
    description: 'Authentication failed; an `error` frame with code `unauthorized` precedes it.',
  },
  handshake_timeout: {
    code: 4002,
    reconnect: true,
    description: 'No `hello` arrived within the handshake timeout.',
  },
  unsupported_protocol: {
    code: 4003,
    reconnect: false,
    description: 'No protocol version in common; an `error` frame precedes it.',
  },
  heartbeat_timeout: {
    code: 4004,
    reconnect: true,
    description: 'The peer did not answer heartbeats in time and was reaped.',
  },
  server_full: {
    code: 4005,
    reconnect: true,
    description: 'The gateway is at `maxConnections`; an `error` frame with `retryAfterMs` precedes it.',
  },
  slow_consumer: {
    code: 4006,
    reconnect: true,
    description: 'The connection let its outbound buffer grow past the limit.',
  },
  forbidden: {
    code: 4008,
    reconnect: false,
    description: 'The credentials were revoked or do not allow this.',
  },
  pairing_denied: {
    code: 4009,
    reconnect: false,
    description: 'The operator denied this device pairing request.',
  },
  pairing_expired: {
    code: 4010,
    reconnect: false,
    description: 'The device pairing request was not approved in time.',
  },
  session_taken_over: {
    code: 4011,
    reconnect: false,
    description: 'Another connection of the same principal resumed this session; this one is closed.',
  },
} as const satisfies Record<string, { code: number; reconnect: boolean; description: string }>

export type CloseReason = keyof typeof CLOSE_CODES

/** Looks up the table entry for a numeric close code. */
export function closeReasonOf(code: number): CloseReason | undefined {
  for (const [name, entry] of Object.entries(CLOSE_CODES)) {
    if (entry.code === code) return name as CloseReason
  }
  return undefined
}

/** Whether a client should reconnect after the given close code. Unknown codes reconnect. */
export function shouldReconnect(code: number): boolean {
  const reason = closeReasonOf(code)
  return reason === undefined ? true : CLOSE_CODES[reason].reconnect
}
