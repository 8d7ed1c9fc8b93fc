import type { Authorize } from '../access/authorize.js'
import type { Connection } from '../peers/connection.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import type { ChannelStreams } from './channel-streams.js'

export interface ChannelFramesOptions {
  streams: Pick<ChannelStreams, 'subscribe' | 'unsubscribe' | 'publish'>
  authorize: Authorize
  /** The connection left a channel (presence tracks membership itself). */
  unsubscribed: (connection: Connection, channel: string) => void
}

/** `subscribe`, `unsubscribe` and `publish`: scopes and policies first, then the channel streams. */
export function registerChannelFrames(frames: FrameRegistry, options: ChannelFramesOptions): void {
  const { streams, authorize } = options
  frames.on('subscribe', (connection, frame) => {
    const allowed = authorize(connection, 'subscribe', frame.channel)
    if (allowed.allowed) return streams.subscribe(connection, frame)
    connection.sendError(allowed.error, frame.id)
    return undefined
  })
  frames.on('unsubscribe', (connection, frame) => {
    const task = streams.unsubscribe(connection, frame)
    options.unsubscribed(connection, frame.channel)
    return task
  })
  frames.on('publish', (connection, frame, size) => {
    const allowed = authorize(connection, 'publish', frame.channel)
    if (allowed.allowed) streams.publish(connection, frame, size)
    else connection.sendError(allowed.error, frame.id)
    return undefined
  })
}
