import { encodeFrame, errorBody, type ServerFrame } from '@parley/protocol'
import type { Authorize } from '../access/authorize.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { GatewayError } from '../errors.js'
import { newId } from '../ids.js'
import type { FrameRegistry } from '../peers/frame-registry.js'

export interface CoreFramesOptions {
  audit: ConnectionAudit
  authorize: Authorize
  counters: { broadcasts: number; messagesDelivered: number }
  /** Queues one encoded frame on every open connection of this node; returns how many took it. */
  sendToAll: (encoded: Buffer) => number
  /** Keeps a broadcast for the sessions waiting for a resume. */
  bufferForAll: (encoded: Buffer) => void
  /** Relays a broadcast to the other nodes, if there are any. */
  relayBroadcast: (encoded: Buffer) => void
}

/** The connection's own frames: heartbeats, a repeated handshake, and broadcasts to every connection. */
export function registerCoreFrames(frames: FrameRegistry, options: CoreFramesOptions): void {
  const { audit, counters } = options
  frames.on('ping', (connection, frame) => {
    const ts = frame.ts ?? Date.now()
    connection.sendFrame(frame.id === undefined ? { type: 'pong', ts } : { type: 'pong', id: frame.id, ts })
    return undefined
  })
  // Liveness was already noted on arrival.
  frames.on('pong', () => undefined)
  frames.on('hello', (connection, frame) => {
    connection.sendError(errorBody('invalid_state', 'the handshake is already complete'), frame.id)
    return undefined
  })
  frames.on('authenticate', (connection, frame) => {
    connection.sendError(
      connection.agentKeyId === undefined
        ? errorBody('invalid_state', 'the handshake is already complete')
        : errorBody('nonce_reused', 'the challenge of this connection was already answered'),
      frame.id,
    )
    return undefined
  })
  frames.on('broadcast', (connection, frame, size) => {
    const allowed = options.authorize(connection, 'broadcast', '*')
    if (!allowed.allowed) {
      connection.sendError(allowed.error, frame.id)
      return undefined
    }
    const id = newId('msg')
    const timestamp = Date.now()
    const encoded = encodeOutbound({
      type: 'broadcast_message',
      data: frame.data,
      id,
      source: connection.clientId,
      timestamp,
    })
    const delivered = options.sendToAll(encoded)
    options.bufferForAll(encoded)
    options.relayBroadcast(encoded)
    counters.broadcasts += 1
    counters.messagesDelivered += delivered
    connection.sendFrame({ type: 'reply', id: frame.id, result: { id, delivered, timestamp } })
    audit.broadcast(connection, size, delivered)
    return undefined
  })
}

/**
 * Encodes a frame carrying client data once for fan-out. Data that parsed but cannot be serialised again
 * (nested deeper than the stack allows) is the client's mistake, not a server error.
 */
function encodeOutbound(frame: ServerFrame): Buffer {
  try {
    return Buffer.from(encodeFrame(frame))
  } catch (error) {
    if (error instanceof RangeError) throw new GatewayError('invalid_frame', 'data is nested too deeply')
    throw error
  }
}
