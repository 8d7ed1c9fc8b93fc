// Listening to a socket, and ending it: on our side without waiting (timeouts, a silent peer) or with the
// closing handshake.
import { CLOSE_CODES } from '@parley/protocol'
import { messageText, type WebSocketLike } from './websocket.js'

// close() waits this long for the closing handshake; a dead peer must not hold it forever.
const CLOSE_GRACE_MS = 1_000

export function noop(): void {}

export function describeClose(code: number, reason: string): string {
  return reason === '' ? `close code ${code}` : `close code ${code}: ${reason}`
}

export interface SocketListener {
  /** Whether the socket is still the client's; events of a socket given up are ignored. */
  isCurrent(): boolean
  /** Called on open whether or not it is current (the transport selector learns from every open). */
  opened(): void
  text(text: string | undefined): void
  closed(code: number, reason: string): void
}

export function listen(socket: WebSocketLike, listener: SocketListener): void {
  if ('binaryType' in socket) socket.binaryType = 'arraybuffer'
  socket.onopen = () => listener.opened()
  socket.onmessage = (event) => {
    if (listener.isCurrent()) listener.text(messageText(event.data))
  }
  socket.onclose = (event) => {
    if (listener.isCurrent()) listener.closed(event.code, event.reason)
  }
  // An error event is always followed by a close event, which carries the code we act on.
  socket.onerror = noop
}

/** Stops listening to the socket. */
export function detach(socket: WebSocketLike): void {
  socket.onopen = null
  socket.onmessage = null
  socket.onclose = null
  // Keep an error handler: `ws` throws on an error event nobody listens to.
  socket.onerror = noop
}

/**
 * Cuts the socket without waiting for the peer. Only `ws` (Node) has `terminate()`; there it matters, because
 * a socket waiting for a close frame that never comes keeps a 30 s timer that stops the process from exiting.
 * Browsers clean up on their own.
 */
export function terminate(socket: WebSocketLike): void {
  const withTerminate = socket as WebSocketLike & { terminate?: unknown }
  if (typeof withTerminate.terminate !== 'function') return
  try {
    withTerminate.terminate()
  } catch {
    // Already gone.
  }
}

export function closeGracefully(socket: WebSocketLike): Promise<void> {
  return new Promise((resolve) => {
    detach(socket)
    if (socket.readyState === 3) {
      resolve()
      return
    }
    const timer = setTimeout(() => {
      // No answer to the closing handshake: cut the socket rather than let it linger (see `terminate`).
      terminate(socket)
      resolve()
    }, CLOSE_GRACE_MS)
    socket.onclose = () => {
      clearTimeout(timer)
      resolve()
    }
    try {
      socket.close(CLOSE_CODES.normal.code, 'client closed')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}
