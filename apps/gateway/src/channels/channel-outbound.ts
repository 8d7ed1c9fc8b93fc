// The `channel_message` frames of a stored publication: live (encoded once) and replayed from the history.
import type { StoredPublication } from '@parley/stores'

/** The live frame, assembled around data serialised once at arrival. */
export function liveFrame(publication: StoredPublication, dataJson: string): string {
  return (
    `{"type":"channel_message","channel":${JSON.stringify(publication.channel)},"data":${dataJson}` +
    `,"id":${JSON.stringify(publication.id)},"source":${JSON.stringify(publication.source)}` +
    `,"timestamp":${publication.timestamp},"offset":${publication.offset}` +
    `,"epoch":${JSON.stringify(publication.epoch)}}`
  )
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
