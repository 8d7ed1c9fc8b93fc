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
  subscriptions: z.array(z.string()),
  messagesIn: z.number().int().nonnegative(),
  messagesOut: z.number().int().nonnegative(),
})
export type ConnectionInfo = z.infer<typeof ConnectionInfo>

export const ConnectionList = z.object({ connections: z.array(ConnectionInfo) })
export type ConnectionList = z.infer<typeof ConnectionList>

export const ChannelInfo = z.object({
  name: z.string(),
  subscribers: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  lastMessageAt: z.string().nullable(),
})
export type ChannelInfo = z.infer<typeof ChannelInfo>

export const ChannelList = z.object({ channels: z.array(ChannelInfo) })
export type ChannelList = z.infer<typeof ChannelList>

/** One online client as the operator sees it (`GET /api/admin/presence`), cluster-wide. */
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
