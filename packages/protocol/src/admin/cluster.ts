import { z } from 'zod'

/** What the operator sees of the running cluster: connections, channels, presence and nodes. */

export const ConnectionInfo = z.object({
  connectionId: z.string(),
  clientId: z.string(),
  sessionId: z.string(),
  principal: z.string(),
  transport: z.enum(['websocket', 'polling']),
  remoteAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  connectedAt: z.string(),
  /** Every channel it gets publications of: live subscriptions and its client id's durable ones. */
  subscriptions: z.array(z.string()),
  /** Those of `subscriptions` that are durable (kept for the client id across connections). */
  durableSubscriptions: z.array(z.string()).optional(),
  messagesIn: z.number().int().nonnegative(),
  messagesOut: z.number().int().nonnegative(),
})
export type ConnectionInfo = z.infer<typeof ConnectionInfo>

/** A connection of a device that asked to be paired and waits for the operator's approval. */
export const PairingConnectionInfo = z.object({
  connectionId: z.string(),
  /** Its device pairing request (null for the moment it is being recorded). */
  requestId: z.string().nullable(),
  deviceName: z.string().nullable(),
  transport: z.enum(['websocket', 'polling']),
  remoteAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  connectedAt: z.string(),
})
export type PairingConnectionInfo = z.infer<typeof PairingConnectionInfo>

/**
 * `GET /api/admin/connections`: the node's open connections, those waiting for pairing approval, and `total`,
 * every connection it holds in any state (also being set up or closed), the number `/health` counts.
 */
export const ConnectionList = z.object({
  connections: z.array(ConnectionInfo),
  pairing: z.array(PairingConnectionInfo).default([]),
  total: z.number().int().nonnegative().optional(),
})
export type ConnectionList = z.infer<typeof ConnectionList>

export const ChannelInfo = z.object({
  name: z.string(),
  /** Live subscribers on this node plus durable subscribers (client ids, cluster-wide). */
  subscribers: z.number().int().nonnegative(),
  /** Those of `subscribers` that are durable. */
  durableSubscribers: z.number().int().nonnegative().default(0),
  messages: z.number().int().nonnegative(),
  lastMessageAt: z.string().nullable(),
})
export type ChannelInfo = z.infer<typeof ChannelInfo>

export const ChannelList = z.object({ channels: z.array(ChannelInfo) })
export type ChannelList = z.infer<typeof ChannelList>

/** One online client as the operator sees it (`GET /api/admin/presence`), cluster-wide. */
// The same fields as the protocol's PresenceEntry, repeated: files under admin/ import only zod and `#admin/*` (the
// dashboard's bundler cannot follow `../x.js` into the frame modules; see apps/dashboard/next.config.ts).
export const AdminPresenceEntry = z.object({
  clientId: z.string(),
  principal: z.string(),
  status: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  lastSeen: z.number(),
  connections: z.number().int().nonnegative(),
  /** Nodes holding its connections. */
  nodes: z.array(z.string()),
  /** Channels it is subscribed to. */
  channels: z.array(z.string()),
})
export type AdminPresenceEntry = z.infer<typeof AdminPresenceEntry>

export const AdminPresenceList = z.object({
  clients: z.array(AdminPresenceEntry),
  principals: z.array(
    z.object({
      principal: z.string(),
      status: z.string(),
      clients: z.array(z.string()),
      connections: z.number().int().nonnegative(),
      lastSeen: z.number(),
    }),
  ),
})
export type AdminPresenceList = z.infer<typeof AdminPresenceList>

/** `ok`: on the bus; `degraded`: the bus (Redis) is unreachable and the node serves only its own clients. */
export const BUS_STATES = ['local', 'ok', 'degraded'] as const

/** One gateway node (`GET /api/admin/nodes`). A single node without Redis lists only itself, bus `local`. */
export const NodeInfo = z.object({
  id: z.string(),
  version: z.string(),
  startedAt: z.string(),
  /** Last heartbeat on the bus (this node: now). */
  lastSeenAt: z.string(),
  connections: z.number().int().nonnegative(),
  /** Channels it listens to on the bus (those with local subscribers). */
  channels: z.number().int().nonnegative(),
  bus: z.enum(BUS_STATES),
  /** True for the node that answered. */
  self: z.boolean(),
})
export type NodeInfo = z.infer<typeof NodeInfo>

export const NodeList = z.object({ nodes: z.array(NodeInfo) })
export type NodeList = z.infer<typeof NodeList>
