import { z } from 'zod'

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as frames carry it: `traceparent` and `tracestate`
 * exactly as the HTTP headers of the same names. The schemas only bound the length; a `traceparent` that does
 * not parse (`parseTraceparent`) is ignored by the gateway, as the W3C receiver rules say, never an error.
 */
export const Traceparent = z.string().min(1).max(256)

/** The longest `tracestate` a frame carries (W3C asks every vendor to pass on at least 512 characters). */
export const MAX_TRACESTATE_LENGTH = 512

/** Vendor trace state, passed on unchanged with a valid `traceparent` (32 list members at most by W3C). */
export const Tracestate = z.string().max(MAX_TRACESTATE_LENGTH)

/** The optional trace context fields of the frames that start or carry a message (see docs/protocol.md). */
export const TraceContextFields = {
  /** W3C `traceparent` of the sender's active span: the gateway's spans (and the recipient's) continue its trace. */
  traceparent: Traceparent.optional(),
  /** W3C `tracestate`, passed on with `traceparent`. */
  tracestate: Tracestate.optional(),
}

export interface TraceContext {
  traceparent?: string | undefined
  tracestate?: string | undefined
}

/** A parsed `traceparent`: 32 and 16 lower-case hex digits and the trace flags (bit 0: sampled). */
export interface TraceParent {
  traceId: string
  spanId: string
  flags: number
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const INVALID_TRACE_ID = '0'.repeat(32)
const INVALID_SPAN_ID = '0'.repeat(16)

/**
 * Parses a `traceparent` by the W3C rules: version `ff` and all-zero ids are invalid; version `00` has exactly
 * four fields; a later version may append fields after the fourth (they are ignored). Undefined when invalid.
 */
export function parseTraceparent(value: string): TraceParent | undefined {
  const match = TRACEPARENT.exec(value)
  if (match === null) return undefined
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ]
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined
  return { traceId, spanId, flags: Number.parseInt(flags, 16) }
}

/** The version `00` `traceparent` of a span. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & 0xff).toString(16).padStart(2, '0')}`
}

/** The fields of an OpenTelemetry span context that trace context is made of (typed here without the API). */
export interface SpanContextFields {
  traceId: string
  spanId: string
  traceFlags: number
  traceState?: { serialize(): string } | undefined
}

/**
 * The trace context a frame carries for a span context: its `traceparent`, and its `tracestate` when set and
 * not longer than a frame takes (a longer one is left out, as W3C lets a vendor drop trace state it cannot keep).
 */
export function traceContextOfSpan(span: SpanContextFields): TraceContext {
  const tracestate = span.traceState?.serialize()
  const traceparent = formatTraceparent({
    traceId: span.traceId,
    spanId: span.spanId,
    flags: span.traceFlags,
  })
  return tracestate === undefined || tracestate === '' || tracestate.length > MAX_TRACESTATE_LENGTH
    ? { traceparent }
    : { traceparent, tracestate }
}

/** The remote span context of a frame's trace context (without its trace state), or undefined when invalid. */
export function remoteSpanContextOf(
  incoming: TraceContext,
): { traceId: string; spanId: string; traceFlags: number; isRemote: true } | undefined {
  const parsed = incoming.traceparent === undefined ? undefined : parseTraceparent(incoming.traceparent)
  if (parsed === undefined) return undefined
  return { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.flags, isRemote: true }
}

/** No trace context: one shared empty object, so the untraced path allocates nothing for it. */
const NO_TRACE_CONTEXT: TraceContext = Object.freeze({})

/** Only the trace context fields that are set, so an object built from them has no `undefined` members. */
export function pickTraceContext(frame: TraceContext): TraceContext {
  if (frame.traceparent === undefined) return NO_TRACE_CONTEXT
  return frame.tracestate === undefined
    ? { traceparent: frame.traceparent }
    : { traceparent: frame.traceparent, tracestate: frame.tracestate }
}
