import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { ConnectionSocket, OutboundFrame } from '../peers/connection.js'

/**
 * A `ws` WebSocket as a connection socket. `stream` is the TCP (or TLS) socket under it, corked while a batch
 * of frames is written so a burst becomes a single socket write.
 */
export function webSocketConnectionSocket(socket: WebSocket, stream: Duplex | undefined): ConnectionSocket {
  return {
    transport: 'websocket',
    get isOpen() {
      return socket.readyState === socket.OPEN
    },
    get bufferedBytes() {
      return socket.bufferedAmount
    },
    sendBatch(frames: readonly OutboundFrame[]) {
      stream?.cork()
      try {
        for (const frame of frames) socket.send(frame, { binary: false })
      } finally {
        stream?.uncork()
      }
    },
    close(code, reason) {
      socket.close(code, reason)
    },
    terminate() {
      socket.terminate()
    },
  }
}
