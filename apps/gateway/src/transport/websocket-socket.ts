import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { ConnectionSocket, OutboundFrame } from '../peers/connection.js'

/** What `sendBatch` reads of ws's sender: whether it holds frames of its own (a blob being read). */
interface SenderState {
  _state?: unknown
  _queue?: { length: number }
}

/** ws's sender state in which it writes each frame at once (`DEFAULT` in ws/lib/sender.js). */
const SENDER_IDLE = 0
const FIN_TEXT = 0x81

/**
 * A `ws` WebSocket as a connection socket. A batch of frames is framed here (server frames are never
 * masked, so the bytes are the same for every subscriber of a fan-out) and written to the TCP (or TLS)
 * stream as one buffer: one write per connection per event-loop turn, instead of two per frame through
 * ws's sender. When the sender holds frames of its own, the batch goes through it, in order. A class, so
 * each open connection costs three fields rather than an object of closures.
 */
export class WebSocketConnectionSocket implements ConnectionSocket {
  readonly transport = 'websocket' as const
  readonly #socket: WebSocket
  readonly #stream: Duplex | undefined
  readonly #sender: SenderState | undefined

  constructor(socket: WebSocket, stream: Duplex | undefined) {
    this.#socket = socket
    this.#stream = stream
    this.#sender = (socket as unknown as { _sender?: SenderState })._sender
  }

  get isOpen(): boolean {
    return this.#socket.readyState === this.#socket.OPEN
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedAmount
  }

  sendBatch(frames: readonly OutboundFrame[]): void {
    const stream = this.#stream
    const sender = this.#sender
    if (stream !== undefined && sender?._state === SENDER_IDLE && sender._queue?.length === 0) {
      stream.write(textFrames(frames))
      return
    }
    stream?.cork()
    try {
      for (const frame of frames) this.#socket.send(frame, { binary: false })
    } finally {
      stream?.uncork()
    }
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason)
  }

  terminate(): void {
    this.#socket.terminate()
  }
}

/** Unmasked, unfragmented WebSocket text frames (RFC 6455 §5.2) of the payloads, in one buffer. */
export function textFrames(frames: readonly OutboundFrame[]): Buffer {
  const payloads = frames.map((frame) => (typeof frame === 'string' ? Buffer.from(frame) : frame))
  let total = 0
  for (const payload of payloads) total += headerLength(payload.length) + payload.length
  const out = Buffer.allocUnsafe(total)
  let offset = 0
  for (const payload of payloads) {
    const length = payload.length
    out[offset] = FIN_TEXT
    if (length < 126) {
      out[offset + 1] = length
      offset += 2
    } else if (length < 65_536) {
      out[offset + 1] = 126
      out.writeUInt16BE(length, offset + 2)
      offset += 4
    } else {
      out[offset + 1] = 127
      out.writeUInt32BE(Math.floor(length / 2 ** 32), offset + 2)
      out.writeUInt32BE(length >>> 0, offset + 6)
      offset += 10
    }
    offset += payload.copy(out, offset)
  }
  return out
}

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65_536 ? 4 : 10
}
