import { type TraceContext, Traceparent, Tracestate } from '@parley/protocol'
import { acceptTraceContext } from './accepted-trace-context.js'

/** No trace context: shared, so an untraced HTTP call allocates nothing for it. */
const NONE: TraceContext = Object.freeze({})

/**
 * The W3C trace context of an HTTP request to the A2A or MCP face (its `traceparent` / `tracestate` headers),
 * kept by the rule a frame's is (`acceptTraceContext`): only an authenticated caller's (never `anonymous`, even on
 * a loopback gateway without a token), and only a `traceparent` that parses. Values longer than a frame takes are
 * ignored like unparseable ones (a `tracestate` alone is dropped, as W3C lets a vendor do), so the agent's
 * `request_incoming` never carries what its schema refuses. Never an error: the call goes on in a new trace.
 */
export function traceContextOfHeaders(principal: { id: string }, headers: Headers): TraceContext {
  const traceparent = headers.get('traceparent')
  if (traceparent === null || !Traceparent.safeParse(traceparent).success) return NONE
  const tracestate = headers.get('tracestate')
  const trace: TraceContext =
    tracestate === null || !Tracestate.safeParse(tracestate).success
      ? { traceparent }
      : { traceparent, tracestate }
  acceptTraceContext({ principal: principal.id }, trace)
  return trace.traceparent === undefined ? NONE : trace
}
