import type { z } from 'zod'
import { type ErrorBody, errorBody } from './errors.js'
import { CLIENT_FRAME_TYPES, ClientFrame, type ClientFrameType } from './frames.js'
import { RequestId } from './primitives.js'

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorBody; id?: string }

const knownTypes = new Set<string>(CLIENT_FRAME_TYPES)

/**
 * Parses one inbound text frame. Tells apart text that is not JSON, an unknown `type`, and a known type
 * with wrong fields, and recovers the request `id` when there is one so the error can be correlated.
 */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, error: errorBody('invalid_json', 'frame is not valid JSON') }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: errorBody('invalid_frame', 'frame must be a JSON object') }
  }
  const record = value as Record<string, unknown>
  const type = record.type
  if (typeof type !== 'string' || !knownTypes.has(type)) {
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : 'missing'
    return withId(errorBody('unknown_type', `unknown frame type ${shown}`), correlatableId(record))
  }
  const parsed = ClientFrame.safeParse(value)
  if (!parsed.success) {
    const message = describeIssues(type as ClientFrameType, parsed.error)
    return withId(errorBody('invalid_frame', message), correlatableId(record))
  }
  return { ok: true, frame: parsed.data }
}

/**
 * Only an id the error frame may carry back (a valid RequestId): an empty one would make it invalid too.
 * Read on the error paths only: most valid frames (`respond`, `ack`, `pong`) have no id, and zod builds an
 * error object for each value it refuses.
 */
function correlatableId(record: Record<string, unknown>): string | undefined {
  return typeof record.id === 'string' && RequestId.safeParse(record.id).success ? record.id : undefined
}

function withId(error: ErrorBody, id: string | undefined): ParseResult {
  return id === undefined ? { ok: false, error } : { ok: false, error, id }
}

/** Turns zod issues into one readable sentence naming each bad field. */
export function describeIssues(type: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(frame)'
    return `${path}: ${issue.message}`
  })
  return `invalid ${type} frame: ${parts.join('; ')}`
}

/** Serialises a frame once; callers reuse the string for every recipient. */
export function encodeFrame(frame: object): string {
  return JSON.stringify(frame)
}
