/**
 * The slice of the WHATWG WebSocket API the client uses. Browsers, Node 22+'s global and the `ws` package all
 * provide it, so one code path serves every runtime.
 */

// Handlers are declared through a method so their parameter is checked bivariantly: the DOM and `ws`
// handler types take richer event objects than the fields read here, and must still be assignable.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

export interface MessageEventLike {
  data: unknown
}

export interface CloseEventLike {
  code: number
  reason: string
}

export interface WebSocketLike {
  readonly readyState: number
  binaryType?: string
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: Handler<unknown> | null
  onmessage: Handler<MessageEventLike> | null
  onclose: Handler<CloseEventLike> | null
  onerror: Handler<unknown> | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

/** `readyState` of an open socket, the same in every implementation. */
export const WEBSOCKET_OPEN = 1

/**
 * Picks the WebSocket implementation: the caller's, else the runtime's global (browsers, Node 22+), else the
 * `ws` package (Node 20). `ws` is imported lazily so a browser bundle never evaluates Node-only code.
 */
export async function resolveWebSocket(override?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (override !== undefined) return override
  const global = (globalThis as { WebSocket?: unknown }).WebSocket
  if (typeof global === 'function') return global as WebSocketConstructor
  const module = await import('ws')
  return module.WebSocket as unknown as WebSocketConstructor
}

/** Text of a message event: the gateway sends text frames, but binary ones are decoded as UTF-8 too. */
export function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data)
  // A Uint8Array view, because Node 20's typings of `decode` accept no other ArrayBufferView.
  if (ArrayBuffer.isView(data)) {
    return new TextDecoder().decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }
  return undefined
}
