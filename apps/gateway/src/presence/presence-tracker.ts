import {
  type AdminPresenceEntry,
  type AdminPresenceList,
  encodeFrame,
  type PresenceEntry,
  type PresenceFrame,
  type PresenceGetFrame,
  type PresenceListResult,
  type PresenceSetFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'
import type { ChannelRegistry } from '../channels/channel-registry.js'
import type { PresenceConfig } from '../config.js'
import type { Connection } from '../peers/connection.js'
import { aggregate, type NodeClientEntry, parseEntry, strip } from './presence-entries.js'
import { PresenceFanOut } from './presence-fan-out.js'

/** Bus group holding every node's online clients, and the topic their changes travel on. */
export const PRESENCE_GROUP = 'presence'
export const PRESENCE_TOPIC = 'presence'

type PresenceEvent = PresenceFrame['event']

const MIN_ENTRY_TTL_MS = 1_000
/** The close code of a connection lost without a closing handshake (a network cut, a crashed peer). */
const LOST_CLOSE_CODE = 1006

/** Messages on the presence topic; unknown kinds are ignored (newer nodes may add some). */
type PresenceMessage = {
  kind: 'event'
  node: string
  channel: string
  event: PresenceEvent
  client: PresenceEntry
}

interface LocalClient {
  clientId: string
  principal: string
  status: string
  metadata: Record<string, unknown>
  connections: Set<Connection>
  /**
   * Channels it is present on, with the connections holding each. A channel held by none stays for
   * `leaveDelay` after a lost connection: back on it within that time, the client never left it.
   */
  channels: Map<string, Set<Connection>>
  /** Marked by the sweep after `offlineTimeout` without a frame; back online on its next sign of life. */
  offline: boolean
  /** The last sign of life of its lost connections (counts for `offlineTimeout` while it has none). */
  lostLastSeen: number
  /** Ends `leaveDelay` after its latest lost connection: the channels nothing holds again are left then. */
  leaveTimer: NodeJS.Timeout | undefined
}

export interface PresenceTrackerOptions {
  config: PresenceConfig
  bus: ClusterBus
  channels: ChannelRegistry<Connection>
  logger: Logger
  /** A presence frame fanned out on `channel` here: detached sessions subscribed to it buffer it. */
  fannedOut?: (channel: string, frame: Buffer) => void
  now?: () => number
}

/**
 * Who is online: per client id its status, metadata, last sign of life, connections and channels. Changes
 * go as `presence` frames to the subscribers of the client's channels, and over the bus to the other nodes,
 * which also read each node's clients from the bus entries (refreshed every heartbeat) to answer
 * `presence_get` for the whole cluster and to notice a node that stopped refreshing.
 */
export function createPresenceTracker(options: PresenceTrackerOptions) {
  const { config, bus, channels, logger } = options
  const now = options.now ?? Date.now
  const heartbeatMs = Math.max(10, Math.round(config.heartbeatInterval * 1000))
  const offlineMs = Math.round(config.offlineTimeout * 1000)
  const leaveDelayMs = Math.round(config.leaveDelay * 1000)
  /**
   * An entry outlives one missed refresh (and, with very short test intervals, a second of scheduling jitter);
   * a node gone is noticed by the others within about two heartbeats (plus one sweep).
   */
  const entryTtlMs = Math.max(2 * heartbeatMs, MIN_ENTRY_TTL_MS)
  const clients = new Map<string, LocalClient>()
  /** Other nodes' clients as last read or heard of, keyed by bus field. */
  let remote = new Map<string, NodeClientEntry>()
  let timer: NodeJS.Timeout | undefined
  let unsubscribeTopic: (() => void) | undefined
  let sweeping = false
  /** Other nodes' fields read by the last sweep. */
  let swept = new Set<string>()
  /** Fields heard of on the topic whose entry the last sweep did not find. */
  const missed = new Set<string>()
  /** Fields announced as gone (expired with channels), so their return is announced as a join. */
  const gone = new Map<string, number>()

  const fieldOf = (clientId: string) => `${bus.nodeId}|${clientId}`

  function lastSeenOf(client: LocalClient): number {
    let latest = client.lostLastSeen
    for (const connection of client.connections) latest = Math.max(latest, connection.lastSeenAt)
    return latest
  }

  function entryOf(client: LocalClient): PresenceEntry {
    return {
      clientId: client.clientId,
      principal: client.principal,
      status: client.status,
      metadata: client.metadata,
      lastSeen: lastSeenOf(client),
      connections: client.connections.size,
    }
  }

  function nodeEntryOf(client: LocalClient): NodeClientEntry {
    return {
      ...entryOf(client),
      nodes: [bus.nodeId],
      channels: [...client.channels.keys()],
      node: bus.nodeId,
    }
  }

  const delivery = new PresenceFanOut({
    subscribersOf: (channel) => channels.subscribersOf(channel),
    intervalMs: Math.round(config.broadcastInterval * 1000),
    fannedOut: options.fannedOut,
  })
  if (config.broadcastChanges) channels.beforePublish((channel) => delivery.sendHeld(channel))

  /** Sends a presence frame to this node's subscribers of `channel` (encoded once; see PresenceFanOut). */
  function fanOut(channel: string, event: PresenceEvent, client: PresenceEntry): void {
    if (!config.broadcastChanges) return
    const frame: PresenceFrame = { type: 'presence', channel, event, client }
    delivery.send(channel, Buffer.from(encodeFrame(frame)))
  }

  function announce(client: LocalClient, channel: string, event: PresenceEvent): void {
    const entry = entryOf(client)
    fanOut(channel, event, entry)
    const message: PresenceMessage = { kind: 'event', node: bus.nodeId, channel, event, client: entry }
    bus.publish(PRESENCE_TOPIC, JSON.stringify(message))
  }

  function writeEntry(client: LocalClient): void {
    bus
      .putEntry(PRESENCE_GROUP, fieldOf(client.clientId), JSON.stringify(nodeEntryOf(client)), entryTtlMs)
      .catch((error: unknown) => logger.debug({ err: error }, 'presence entry not written'))
  }

  function removeEntry(clientId: string): void {
    bus
      .removeEntry(PRESENCE_GROUP, fieldOf(clientId))
      .catch((error: unknown) => logger.debug({ err: error }, 'presence entry not removed'))
  }

  /** A connection was welcomed. */
  function connected(connection: Connection): void {
    let client = clients.get(connection.clientId)
    if (client === undefined) {
      client = {
        clientId: connection.clientId,
        principal: connection.principal,
        status: 'online',
        metadata: {},
        connections: new Set(),
        channels: new Map(),
        offline: false,
        lostLastSeen: 0,
        leaveTimer: undefined,
      }
      clients.set(client.clientId, client)
    }
    client.connections.add(connection)
    if (client.offline) comeBack(client)
    writeEntry(client)
  }

  /**
   * A connection became live on a channel: the client joins it with its first connection there, unless it
   * still holds the channel from a connection lost less than `leaveDelay` ago (then nobody saw it leave).
   */
  function subscribed(connection: Connection, channel: string): void {
    const client = clients.get(connection.clientId)
    if (client === undefined || !client.connections.has(connection)) return
    let holders = client.channels.get(channel)
    const first = holders === undefined
    if (holders === undefined) {
      holders = new Set()
      client.channels.set(channel, holders)
    }
    holders.add(connection)
    if (first && !client.offline) {
      announce(client, channel, 'join')
      writeEntry(client)
    }
  }

  /** A connection left a channel (unsubscribe): the client leaves it with its last connection there. */
  function unsubscribed(connection: Connection, channel: string): void {
    const client = clients.get(connection.clientId)
    const holders = client?.channels.get(channel)
    if (client === undefined || holders === undefined || !holders.delete(connection)) return
    if (holders.size > 0) return
    client.channels.delete(channel)
    if (!client.offline) {
      announce(client, channel, 'leave')
      writeEntry(client)
    }
  }

  /**
   * A connection closed: the client leaves its channels with its last connection on each. A connection lost
   * without a closing handshake (`code` 1006) leaves them only after `leaveDelay`, so a client that
   * reconnects and resubscribes within it (a network blip, a cut proxy) is seen neither leaving nor joining.
   */
  function disconnected(connection: Connection, code?: number): void {
    const client = clients.get(connection.clientId)
    if (client === undefined || !client.connections.delete(connection)) return
    const lost = code === LOST_CLOSE_CODE && leaveDelayMs > 0
    if (lost) client.lostLastSeen = Math.max(client.lostLastSeen, connection.lastSeenAt)
    let kept = false
    for (const [channel, holders] of [...client.channels]) {
      if (!holders.delete(connection) || holders.size > 0) continue
      if (lost) {
        kept = true
        continue
      }
      client.channels.delete(channel)
      if (!client.offline) announce(client, channel, 'leave')
    }
    if (kept) {
      clearTimeout(client.leaveTimer)
      client.leaveTimer = setTimeout(() => leaveUnheld(client), leaveDelayMs)
      client.leaveTimer.unref()
    }
    settle(client)
  }

  /** `leaveDelay` after a lost connection: the client leaves the channels no connection of it holds again. */
  function leaveUnheld(client: LocalClient): void {
    client.leaveTimer = undefined
    if (clients.get(client.clientId) !== client) return
    for (const [channel, holders] of [...client.channels]) {
      if (holders.size > 0) continue
      client.channels.delete(channel)
      if (!client.offline) announce(client, channel, 'leave')
    }
    settle(client)
  }

  /** Forgets a client with no connection and no channel kept; otherwise refreshes its entry. */
  function settle(client: LocalClient): void {
    if (client.connections.size === 0 && client.channels.size === 0) {
      clearTimeout(client.leaveTimer)
      clients.delete(client.clientId)
      removeEntry(client.clientId)
    } else if (!client.offline) {
      writeEntry(client)
    }
  }

  /** `presence_set`: status and metadata of the connection's client id; an `update` on its channels. */
  function set(connection: Connection, frame: PresenceSetFrame): void {
    const client = clients.get(connection.clientId)
    if (client === undefined) return
    client.status = frame.status
    client.metadata = frame.metadata ?? {}
    connection.sendFrame({
      type: 'reply',
      id: frame.id,
      result: { status: client.status, metadata: client.metadata },
    })
    if (client.offline) comeBack(client)
    for (const channel of client.channels.keys()) announce(client, channel, 'update')
    writeEntry(client)
  }

  function goOffline(client: LocalClient): void {
    client.offline = true
    for (const channel of client.channels.keys()) announce(client, channel, 'leave')
    removeEntry(client.clientId)
  }

  function comeBack(client: LocalClient): void {
    client.offline = false
    for (const channel of client.channels.keys()) announce(client, channel, 'join')
  }

  /** Every online client id of the cluster, one entry per client id (its connections on every node merged). */
  async function clusterEntries(): Promise<AdminPresenceEntry[]> {
    const merged = new Map<string, AdminPresenceEntry>()
    const add = (entry: AdminPresenceEntry) => {
      const seen = merged.get(entry.clientId)
      if (seen === undefined) {
        merged.set(entry.clientId, { ...entry, nodes: [...entry.nodes], channels: [...entry.channels] })
        return
      }
      // The status of the most recently active side wins, as for principals.
      if (entry.lastSeen > seen.lastSeen) {
        seen.status = entry.status
        seen.metadata = entry.metadata
        seen.lastSeen = entry.lastSeen
      }
      seen.connections += entry.connections
      seen.nodes = [...new Set([...seen.nodes, ...entry.nodes])]
      seen.channels = [...new Set([...seen.channels, ...entry.channels])]
    }
    for (const client of clients.values()) {
      if (!client.offline) add(strip(nodeEntryOf(client)))
    }
    for (const entry of await remoteEntries()) add(strip(entry))
    return [...merged.values()].sort((a, b) => a.clientId.localeCompare(b.clientId))
  }

  /** Reads the other nodes' entries; on a bus failure, the last ones read. */
  async function remoteEntries(): Promise<NodeClientEntry[]> {
    if (bus.state() === 'local') return []
    try {
      const entries = await bus.entries(PRESENCE_GROUP)
      const found: NodeClientEntry[] = []
      for (const [field, value] of entries) {
        if (field.startsWith(`${bus.nodeId}|`)) continue
        const entry = parseEntry(value)
        if (entry !== undefined) found.push(entry)
      }
      return found
    } catch (error) {
      logger.debug({ err: error }, 'presence entries unreadable; answering from the last ones read')
      return [...remote.values()]
    }
  }

  async function list(channel?: string): Promise<PresenceListResult> {
    const all = await clusterEntries()
    const chosen = channel === undefined ? all : all.filter((entry) => entry.channels.includes(channel))
    return {
      ...(channel === undefined ? {} : { channel }),
      clients: chosen.map(({ nodes: _nodes, channels: _channels, ...entry }) => entry),
      principals: aggregate(chosen),
    }
  }

  /** `presence_get`, answered with the cluster's view. */
  async function get(connection: Connection, frame: PresenceGetFrame): Promise<void> {
    const result = await list(frame.channel)
    connection.sendFrame({ type: 'reply', id: frame.id, result })
  }

  async function adminList(): Promise<AdminPresenceList> {
    const all = await clusterEntries()
    return { clients: all, principals: aggregate(all) }
  }

  function onMessage(payload: string): void {
    let message: PresenceMessage
    try {
      message = JSON.parse(payload) as PresenceMessage
    } catch {
      return
    }
    if (message?.kind !== 'event' || typeof message.channel !== 'string') return
    if (!['join', 'leave', 'update'].includes(message.event) || typeof message.client?.clientId !== 'string')
      return
    const field = `${message.node}|${message.client.clientId}`
    gone.delete(field)
    const known = remote.get(field)
    const channelsOf = new Set(known?.channels ?? [])
    if (message.event === 'leave') channelsOf.delete(message.channel)
    else channelsOf.add(message.channel)
    remote.set(field, {
      ...message.client,
      channels: [...channelsOf],
      nodes: [message.node],
      node: message.node,
    })
    fanOut(message.channel, message.event, message.client)
  }

  /** Marks silent clients offline, refreshes this node's entries, and notices other nodes' clients gone. */
  async function sweep(): Promise<void> {
    const at = now()
    for (const client of clients.values()) {
      const silent = at - lastSeenOf(client) > offlineMs
      if (silent && !client.offline) goOffline(client)
      else if (!silent && client.offline) comeBack(client)
      if (!client.offline) writeEntry(client)
    }
    if (bus.state() === 'local') return
    let entries: Map<string, string>
    try {
      entries = await bus.entries(PRESENCE_GROUP)
    } catch {
      // The bus is away: keep the last view rather than declaring everyone elsewhere gone.
      return
    }
    const next = new Map<string, NodeClientEntry>()
    for (const [field, value] of entries) {
      if (field.startsWith(`${bus.nodeId}|`)) continue
      const entry = parseEntry(value)
      if (entry !== undefined) next.set(field, entry)
    }
    for (const [field, previous] of remote) {
      if (next.has(field)) continue
      // Heard of on the topic but not yet read back: give its entry one more sweep to appear.
      if (!swept.has(field) && !missed.has(field)) {
        missed.add(field)
        next.set(field, previous)
        continue
      }
      missed.delete(field)
      // Its node stopped refreshing it (or removed it after saying leave): leave whatever is still open.
      const { node: _node, nodes: _nodes, channels: ofChannels, ...client } = previous
      for (const channel of ofChannels) fanOut(channel, 'leave', client)
      if (ofChannels.length > 0) gone.set(field, at)
    }
    for (const [field, entry] of next) {
      if (!gone.delete(field)) continue
      // Back after its entry had expired (a bus outage, a slow node): it joins what it holds again.
      const { node: _node, nodes: _nodes, channels: ofChannels, ...client } = entry
      for (const channel of ofChannels) fanOut(channel, 'join', client)
    }
    for (const [field, goneAt] of gone) if (at - goneAt > 10 * heartbeatMs) gone.delete(field)
    swept = new Set([...entries.keys()].filter((field) => !field.startsWith(`${bus.nodeId}|`)))
    remote = next
  }

  function start(): void {
    if (timer !== undefined) return
    unsubscribeTopic = bus.subscribe(PRESENCE_TOPIC, onMessage)
    timer = setInterval(() => {
      if (sweeping) return
      sweeping = true
      sweep()
        .catch((error: unknown) => logger.error({ err: error }, 'presence sweep failed'))
        .finally(() => {
          sweeping = false
        })
    }, heartbeatMs)
    timer.unref()
  }

  function stop(): void {
    clearInterval(timer)
    timer = undefined
    for (const client of clients.values()) clearTimeout(client.leaveTimer)
    unsubscribeTopic?.()
    unsubscribeTopic = undefined
    delivery.flush()
  }

  return { connected, subscribed, unsubscribed, disconnected, set, get, list, adminList, sweep, start, stop }
}

export type PresenceTracker = ReturnType<typeof createPresenceTracker>
