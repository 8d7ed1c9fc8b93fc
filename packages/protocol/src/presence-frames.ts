import { z } from 'zod'
import { ChannelName, RequestId } from './primitives.js'

// Presence frames and results (see docs/protocol.md, `presence_set`, `presence_get`, `presence`).

/** Free-form presence status, such as `available`, `busy` or `away`. */
export const PresenceStatus = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_\-.:]+$/, 'statuses use letters, digits and _ - . :')

/** Sets this connection's presence status and metadata; subscribers of its channels see an `update`. */
export const PresenceSetFrame = z.object({
  type: z.literal('presence_set'),
  id: RequestId,
  status: PresenceStatus,
  metadata: z.record(z.string(), z.unknown()).optional(),
})

/** Lists who is online (cluster-wide): everyone, or the subscribers of one channel. */
export const PresenceGetFrame = z.object({
  type: z.literal('presence_get'),
  id: RequestId,
  channel: ChannelName.optional(),
})

/** One client (client id) online: its status, metadata and last sign of life. */
export const PresenceEntry = z.object({
  clientId: z.string(),
  principal: z.string(),
  status: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  /** Epoch ms of the last frame from any of its connections. */
  lastSeen: z.number(),
  /** Open connections of this client id, on every node. */
  connections: z.number().int().nonnegative(),
})

/** Presence of a principal, aggregated over all its clients and connections. */
export const PrincipalPresence = z.object({
  principal: z.string(),
  /** The status of its most recently active client. */
  status: z.string(),
  clients: z.array(z.string()),
  connections: z.number().int().nonnegative(),
  lastSeen: z.number(),
})

export const PRESENCE_EVENTS = ['join', 'leave', 'update'] as const

/** To a channel's subscribers (when presence `broadcastChanges` is on): a client joined, left or changed status. */
export const PresenceFrame = z.object({
  type: z.literal('presence'),
  channel: ChannelName,
  event: z.enum(PRESENCE_EVENTS),
  client: PresenceEntry,
})

export const PresenceSetResult = z.object({
  status: z.string(),
  metadata: z.record(z.string(), z.unknown()),
})

/** Answer to `presence_get` (the client SDK also emits it as `presence_list`). */
export const PresenceListResult = z.object({
  channel: ChannelName.optional(),
  clients: z.array(PresenceEntry),
  principals: z.array(PrincipalPresence),
})

export type PresenceSetFrame = z.infer<typeof PresenceSetFrame>
export type PresenceGetFrame = z.infer<typeof PresenceGetFrame>
export type PresenceEntry = z.infer<typeof PresenceEntry>
export type PrincipalPresence = z.infer<typeof PrincipalPresence>
export type PresenceFrame = z.infer<typeof PresenceFrame>
export type PresenceSetResult = z.infer<typeof PresenceSetResult>
export type PresenceListResult = z.infer<typeof PresenceListResult>
