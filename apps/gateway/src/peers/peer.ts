import type { CloseReason, ErrorBody, ServerFrame } from '@parley/protocol'

/**
 * The narrow face of a connected peer that a subsystem talks to: send it a frame, send it an error, close
 * it. `Connection` implements it; a subsystem that needs no more than this takes a `Peer`.
 */
export interface Peer {
  /** Queues a frame; false when the peer can no longer take frames. */
  sendFrame(frame: ServerFrame): boolean
  /** Sends an `error` frame (see `sendError`). */
  sendError(error: ErrorBody, id?: string): boolean
  /** Ends the connection with a protocol close reason. */
  close(reason: CloseReason, message?: string): void
}

/**
 * The one way an error reaches anything that takes frames (a connection, a hosted agent, an A2A or MCP
 * caller): an `error` frame answering request `id` when there is one. The body comes from `errorBody` or,
 * for a thrown error, from `errorBodyOf` (errors.ts).
 */
export function sendError(to: Pick<Peer, 'sendFrame'>, error: ErrorBody, id?: string): boolean {
  return to.sendFrame(id === undefined ? { type: 'error', ...error } : { type: 'error', id, ...error })
}
