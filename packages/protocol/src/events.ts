/**
 * The reference's event kinds. Each kind is carried by concrete frames; the audit log and the client's
 * event emitter use these names.
 *
 * - message: `channel_message` (and direct messages in later protocol versions)
 * - connect: `welcome`
 * - disconnect: `shutdown` and the WebSocket close
 * - error: `error`
 * - heartbeat: `ping` / `pong`
 * - broadcast: `broadcast` (request) and `broadcast_message` (delivery)
 */
export const EVENT_KINDS = ['message', 'connect', 'disconnect', 'error', 'heartbeat', 'broadcast'] as const
export type EventKind = (typeof EVENT_KINDS)[number]
