// The `channel_message` frames of a stored publication: live (encoded once) and replayed from the history.
import type { TraceContext } from '@parley/protocol'
import type { StoredPublication } from '@parley/stores'

/** The live frame, assembled around data serialised once at arrival. */
export function liveFrame(
  publication: StoredPublication,
  dataJson: string,
  trace: TraceContext = {},
): string {
  return (
    `{"type":"channel_message","channel":${JSON.stringify(publication.channel)},"data":${dataJson}` +
    `,"id":${JSON.stringify(publication.id)},"source":${JSON.stringify(publication.source)}` +
    `,"timestamp":${publication.timestamp},"offset":${publication.offset}` +
    `,"epoch":${JSON.stringify(publication.epoch)}${traceFields(trace)}}`
  )
}

/** The live frame's trace context (the history does not keep it: replays carry none). */
function traceFields(trace: TraceContext): string {
  if (trace.traceparent === undefined) return ''
  const state = trace.tracestate === undefined ? '' : `,"tracestate":${JSON.stringify(trace.tracestate)}`
  return `,"traceparent":${JSON.stringify(trace.traceparent)}${state}`
}

export function replayFrame(publication: StoredPublication) {
  return {
    type: 'channel_message' as const,
    channel: publication.channel,
    data: publication.data,
    id: publication.id,
    source: publication.source,
    timestamp: publication.timestamp,
    offset: publication.offset,
    epoch: publication.epoch,
  }
}
