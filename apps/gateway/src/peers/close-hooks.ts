import type { Connection } from './connection.js'

/** How a connection ended, as its close hooks see it. */
export interface ConnectionEnd {
  /** The close code (the peer's, or the one the gateway closed with). */
  code: number
  /** Whether it was welcomed (has a client id and a session); a handshake that never finished was not. */
  welcomed: boolean
}

/**
 * Called once when a registered connection has gone, however it went (a close, a reset, reaped by the
 * heartbeat, closed as a slow consumer, taken over). Hooks run in the order they were registered.
 */
export type CloseHook = (connection: Connection, end: ConnectionEnd) => void

export interface CloseHooks {
  onClose(hook: CloseHook): void
}
