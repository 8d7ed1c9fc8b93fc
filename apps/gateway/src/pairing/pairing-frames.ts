import { errorBody, type PairingCheckFrame } from '@parley/protocol'
import type { Connection } from '../peers/connection.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import type { ChatPairing } from './chat-pairing.js'

/** `pairing_check`: a connector asks whether a chat user is paired (the role connector only). */
export function registerPairingFrames(
  frames: FrameRegistry,
  options: { chatPairing: () => ChatPairing },
): void {
  frames.on('pairing_check', (connection, frame) => {
    if (connection.role !== 'connector') {
      const message = `${connection.principal} may not check pairings: it needs the role connector`
      connection.sendError(errorBody('forbidden', message), frame.id)
      return undefined
    }
    return check(connection, frame)
  })

  async function check(connection: Connection, frame: PairingCheckFrame): Promise<void> {
    // Inside the promise: a store not opened yet fails the request like a store that is down.
    const result = await options.chatPairing().check(frame)
    connection.sendFrame({ type: 'reply', id: frame.id, result })
  }
}
