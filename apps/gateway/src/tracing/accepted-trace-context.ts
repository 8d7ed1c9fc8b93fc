import { parseTraceparent, type TraceContext } from '@parley/protocol'

/**
 * Keeps a frame's W3C trace context only when it may be trusted and used: an anonymous peer's is dropped (a
 * stranger must not graft spans onto an operator's traces), and a `traceparent` that does not parse is
 * dropped with its `tracestate` (the W3C receiver rule: ignore it and start a new trace, never refuse the
 * message). Runs on every inbound frame, so the common case (no trace context) is one property read.
 */
export function acceptTraceContext(peer: { principal: string }, frame: TraceContext): void {
  if (frame.traceparent === undefined) {
    if (frame.tracestate !== undefined) delete frame.tracestate
    return
  }
  if (peer.principal === 'anonymous' || parseTraceparent(frame.traceparent) === undefined) {
    delete frame.traceparent
    delete frame.tracestate
  }
}
