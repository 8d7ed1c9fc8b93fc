import type { CloseReason, ErrorBody, ServerFrame } from '@parley/protocol'

/**
 * The narrow face of a connected peer that a subsystem talks to: send it a frame, send it an error, close
 * it. `Connection` implements it; a subsystem that needs no more than this takes a `Peer`.
 */
export interface Peer {
  /** Queues a frame; false when the peer can no longer take frames. */
  sendFrame(frame: ServerFrame): boolean
  /** The one way an error reaches a peer: an `error` frame, answering request `id` when there is one. */
  sendError(error: ErrorBody, id?: string): boolean
  /** Ends the connection with a protocol close reason. */
  close(reason: CloseReason, message?: string): void
}
