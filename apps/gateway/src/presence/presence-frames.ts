import { errorBody } from '@parley/protocol'
import type { Authorize } from '../access/authorize.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import type { PresenceTracker } from './presence-tracker.js'

/** `presence_set` and `presence_get` (a channel's presence needs the right to subscribe to it). */
export function registerPresenceFrames(
  frames: FrameRegistry,
  options: { presence: Pick<PresenceTracker, 'set' | 'get'> | undefined; authorize: Authorize },
): void {
  const { presence, authorize } = options
  const disabled = errorBody('unavailable', 'presence is disabled')
  frames.on('presence_set', (connection, frame) => {
    if (presence === undefined) connection.sendError(disabled, frame.id)
    else presence.set(connection, frame)
    return undefined
  })
  frames.on('presence_get', (connection, frame) => {
    if (presence === undefined) {
      connection.sendError(disabled, frame.id)
      return undefined
    }
    if (frame.channel !== undefined) {
      const allowed = authorize(connection, 'subscribe', frame.channel)
      if (!allowed.allowed) {
        connection.sendError(allowed.error, frame.id)
        return undefined
      }
    }
    return presence.get(connection, frame)
  })
}
