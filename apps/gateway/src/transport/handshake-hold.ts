/** The connection state the hold looks at: true while the credentials of a `hello` are being checked. */
export interface Authenticating {
  readonly authenticating: boolean
}

export interface HandshakeHoldOptions {
  /** How many frames one connection may send ahead of its welcome. */
  maxFrames: number
  /** How many bytes those frames may add up to. */
  maxBytes: number
}

interface Held {
  frames: unknown[]
  bytes: number
}

function byteSize(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data)
  if (Buffer.isBuffer(data)) return data.length
  return 0
}

/**
 * Frames that arrive while a `hello` is being authenticated wait here and are handled in order once the
 * handshake has its outcome, so `hello` and the frames after it may travel back to back, in one WebSocket
 * turn or one `/poll/send` batch, and every transport answers them alike: the welcome, then each reply.
 * Bounded per connection; past the bound a frame is handled at once (and refused as before the handshake).
 */
export function createHandshakeHold<C extends Authenticating>(options: HandshakeHoldOptions) {
  const heldBy = new WeakMap<C, Held>()

  return {
    /** Keeps a frame for later when the connection is authenticating or earlier frames still wait. */
    hold(connection: C, data: unknown): boolean {
      const held = heldBy.get(connection)
      if (held === undefined && !connection.authenticating) return false
      const entry = held ?? { frames: [], bytes: 0 }
      const bytes = byteSize(data)
      if (entry.frames.length >= options.maxFrames || entry.bytes + bytes > options.maxBytes) return false
      entry.frames.push(data)
      entry.bytes += bytes
      heldBy.set(connection, entry)
      return true
    },

    /**
     * Hands the held frames to `handle` in arrival order. A frame that starts another authentication (a
     * second `hello` after a refusal) stops the release; the rest wait for that one's outcome.
     */
    release(connection: C, handle: (data: unknown) => void): void {
      const held = heldBy.get(connection)
      if (held === undefined) return
      while (held.frames.length > 0 && !connection.authenticating) {
        const data = held.frames.shift()
        held.bytes -= byteSize(data)
        handle(data)
      }
      if (held.frames.length === 0) heldBy.delete(connection)
    },
  }
}

export type HandshakeHold<C extends Authenticating> = ReturnType<typeof createHandshakeHold<C>>
