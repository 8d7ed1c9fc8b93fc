import type { NodeInfo } from '@parley/protocol'
import type { Logger } from 'pino'
import { readBusPayload } from '../bus/bus-payload.js'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'

/** How often a node refreshes its registry entry (and looks for nodes that died). */
export const NODE_REFRESH_MS = 2_000
/** A node that has not refreshed for this long is gone. */
export const NODE_TTL_MS = 3 * NODE_REFRESH_MS
/** How often the node refreshes where its clients are connected. */
const CLIENT_REFRESH_MS = 5_000
const CLIENT_TTL_MS = 3 * CLIENT_REFRESH_MS
/** How old the cached client directory may be when a wake needs it. */
const DIRECTORY_MAX_AGE_MS = NODE_REFRESH_MS

export const BUS_GROUPS = { nodes: 'nodes', clients: 'clients' } as const

/** A node's entry in the `nodes` group. */
interface NodeEntry {
  id: string
  version: string
  startedAt: string
  lastSeenAt: string
  connections: number
  channels: number
  bus: NodeInfo['bus']
}

export interface ClusterNodeOptions {
  bus: ClusterBus
  logger: Logger
  version: string
  startedAt: number
  /** Open connections on this node. */
  connections: () => number
  /** Channels this node listens to on the bus. */
  listenedChannels: () => number
  /** Client ids with an open connection here. */
  localClients: () => Iterable<string>
  /** Whether the client id has an open connection here. */
  isLocal: (clientId: string) => boolean
  /** Sends an encoded frame to the client id's connection here, if it has one. */
  sendLocally: (clientId: string, frame: string) => void
  /** Sends the client id's due deliveries (it is connected here). */
  pump: (clientId: string) => void
  /** Sends a broadcast frame, encoded by the node it came from, to every local connection. */
  broadcastLocally: (frame: string) => void
  /** Puts back to pending every delivery left in flight: a node died with them. */
  releaseInFlight: () => Promise<number>
}

/**
 * This node's part of the cluster besides channels: the node registry (`nodes` group), where each client id
 * is connected (`clients` group), waking the node that holds a recipient (`node:<id>`, `kind: 'wake'`),
 * broadcasts to every node (`all`), and releasing the deliveries a dead node left in flight.
 */
export function createClusterNode(options: ClusterNodeOptions) {
  const { bus, logger } = options
  const startedAt = new Date(options.startedAt).toISOString()
  let nodeTimer: NodeJS.Timeout | undefined
  let clientTimer: NodeJS.Timeout | undefined
  let running = false
  /** Nodes seen alive at the last refresh: one missing next time died (or left). */
  let knownNodes = new Set<string>()
  /**
   * Until then nodes are only collected, not missed: after a start or a bus outage (Redis restarted empty,
   * say) every node needs a refresh round to be listed again.
   */
  let detectAfter = 0
  let directory = new Map<string, string>()
  let directoryAt = Number.NEGATIVE_INFINITY
  let directoryLoading: Promise<void> | undefined
  let pendingWakes = new Set<string>()
  let wakeScheduled = false
  const unsubscribes: (() => void)[] = []

  function entry(): NodeEntry {
    return {
      id: bus.nodeId,
      version: options.version,
      startedAt,
      lastSeenAt: new Date().toISOString(),
      connections: options.connections(),
      channels: options.listenedChannels(),
      bus: bus.state(),
    }
  }

  function receive(payload: string): void {
    const message = readBusPayload(payload)
    if (message === undefined) return
    if (typeof message !== 'object' || message === null) return
    const { kind } = message as { kind?: unknown }
    if (kind === 'wake') {
      const { clients, everyone } = message as { clients?: unknown; everyone?: unknown }
      if (everyone === true) {
        for (const clientId of options.localClients()) options.pump(clientId)
        return
      }
      if (!Array.isArray(clients)) return
      for (const clientId of clients) {
        if (typeof clientId === 'string' && options.isLocal(clientId)) options.pump(clientId)
      }
    } else if (kind === 'frame') {
      const { to, frame } = message as { to?: unknown; frame?: unknown }
      if (typeof to === 'string' && typeof frame === 'object' && frame !== null) {
        options.sendLocally(to, JSON.stringify(frame))
      }
    } else if (kind === 'broadcast') {
      const { frame } = message as { frame?: unknown }
      if (typeof frame === 'object' && frame !== null) options.broadcastLocally(JSON.stringify(frame))
    }
  }

  async function refreshNode(): Promise<void> {
    if (bus.state() !== 'ok') return
    const self = entry()
    await bus.putEntry(BUS_GROUPS.nodes, self.id, JSON.stringify(self), NODE_TTL_MS)
    const alive = new Set((await bus.entries(BUS_GROUPS.nodes)).keys())
    if (Date.now() < detectAfter) {
      for (const id of alive) knownNodes.add(id)
      return
    }
    const gone = [...knownNodes].filter((id) => !alive.has(id))
    knownNodes = alive
    // One survivor (the first id) cleans up after a node that died; the others would only repeat it.
    if (gone.length > 0 && [...alive].sort()[0] === bus.nodeId) {
      const released = await options.releaseInFlight()
      logger.warn({ gone, released }, 'nodes left the cluster; their deliveries in flight are due again')
      wakeEveryone()
    }
  }

  async function refreshClients(): Promise<void> {
    if (bus.state() !== 'ok') return
    const writes: Promise<void>[] = []
    for (const clientId of new Set(options.localClients())) {
      writes.push(bus.putEntry(BUS_GROUPS.clients, clientId, bus.nodeId, CLIENT_TTL_MS))
    }
    await Promise.all(writes)
  }

  function loadDirectory(): Promise<void> {
    directoryLoading ??= bus
      .entries(BUS_GROUPS.clients)
      .then((entries) => {
        directory = entries
        directoryAt = Date.now()
      })
      .finally(() => {
        directoryLoading = undefined
      })
    return directoryLoading
  }

  async function flushWakes(): Promise<void> {
    wakeScheduled = false
    const clientIds = [...pendingWakes]
    pendingWakes = new Set()
    if (bus.state() === 'local' || clientIds.length === 0) return
    if (Date.now() - directoryAt > DIRECTORY_MAX_AGE_MS) {
      await loadDirectory().catch((error: unknown) =>
        logger.debug({ err: error }, 'client directory read failed'),
      )
    }
    const byNode = new Map<string, string[]>()
    const unknown: string[] = []
    for (const clientId of clientIds) {
      const nodeId = directory.get(clientId)
      if (nodeId === undefined || nodeId === bus.nodeId) unknown.push(clientId)
      else byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), clientId])
    }
    for (const [nodeId, clients] of byNode) {
      bus.publish(BUS_TOPICS.node(nodeId), JSON.stringify({ kind: 'wake', clients }))
    }
    // Not in the directory yet (it connected a moment ago): whichever node holds it answers.
    if (unknown.length > 0) bus.publish(BUS_TOPICS.all, JSON.stringify({ kind: 'wake', clients: unknown }))
  }

  function wakeEveryone(): void {
    bus.publish(BUS_TOPICS.all, JSON.stringify({ kind: 'wake', everyone: true }))
    for (const clientId of options.localClients()) options.pump(clientId)
  }

  function tick(task: () => Promise<void>, what: string): () => void {
    let busy = false
    return () => {
      if (busy || !running) return
      busy = true
      task()
        .catch((error: unknown) => logger.debug({ err: error }, `${what} failed`))
        .finally(() => {
          busy = false
        })
    }
  }

  return {
    start(): void {
      if (running) return
      running = true
      detectAfter = Date.now() + NODE_TTL_MS
      unsubscribes.push(bus.subscribe(BUS_TOPICS.node(bus.nodeId), receive))
      unsubscribes.push(bus.subscribe(BUS_TOPICS.all, receive))
      unsubscribes.push(
        bus.onState((state) => {
          // Wakes sent while the bus was down were dropped: every local recipient looks again.
          if (state === 'ok') {
            detectAfter = Date.now() + NODE_TTL_MS
            for (const clientId of options.localClients()) options.pump(clientId)
            refreshNodeNow()
            refreshClientsNow()
          }
        }),
      )
      const refreshNodeNow = tick(refreshNode, 'node registry refresh')
      const refreshClientsNow = tick(refreshClients, 'client directory refresh')
      nodeTimer = setInterval(refreshNodeNow, NODE_REFRESH_MS)
      nodeTimer.unref()
      clientTimer = setInterval(refreshClientsNow, CLIENT_REFRESH_MS)
      clientTimer.unref()
      refreshNodeNow()
      refreshClientsNow()
    },

    async stop(): Promise<void> {
      running = false
      clearInterval(nodeTimer)
      clearInterval(clientTimer)
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
      if (bus.state() === 'ok') {
        await bus.removeEntry(BUS_GROUPS.nodes, bus.nodeId).catch(() => {})
      }
    },

    /** A client id connected here: the directory learns it at once. */
    clientConnected(clientId: string): void {
      if (bus.state() !== 'ok') return
      bus
        .putEntry(BUS_GROUPS.clients, clientId, bus.nodeId, CLIENT_TTL_MS)
        .catch((error: unknown) => logger.debug({ err: error }, 'client directory write failed'))
    },

    /** The client id's last connection here closed. */
    clientDisconnected(clientId: string): void {
      if (bus.state() !== 'ok') return
      bus
        .removeEntry(BUS_GROUPS.clients, clientId)
        .catch((error: unknown) => logger.debug({ err: error }, 'client directory write failed'))
    },

    /** A recipient not connected here may have deliveries to send: wake the node that holds it. */
    wake(clientId: string): void {
      if (bus.state() === 'local') return
      pendingWakes.add(clientId)
      if (wakeScheduled) return
      wakeScheduled = true
      setImmediate(() => {
        void flushWakes().catch((error: unknown) => logger.debug({ err: error }, 'wake failed'))
      })
    },

    /** Hands an encoded frame (a receipt) to a client id connected to another node. */
    sendTo(clientId: string, frame: string): void {
      if (bus.state() !== 'ok') return
      const send = () => {
        const nodeId = directory.get(clientId)
        const topic = nodeId === undefined || nodeId === bus.nodeId ? BUS_TOPICS.all : BUS_TOPICS.node(nodeId)
        bus.publish(topic, `{"kind":"frame","to":${JSON.stringify(clientId)},"frame":${frame}}`)
      }
      if (Date.now() - directoryAt <= DIRECTORY_MAX_AGE_MS) {
        send()
        return
      }
      loadDirectory().then(send, (error: unknown) =>
        logger.debug({ err: error }, 'client directory read failed'),
      )
    },

    /** Sends a broadcast frame to every other node. */
    broadcast(frame: string): void {
      if (bus.state() === 'local') return
      bus.publish(BUS_TOPICS.all, `{"kind":"broadcast","frame":${frame}}`)
    },

    /** Every node on the bus; alone (or while degraded), this node only. */
    async nodes(): Promise<NodeInfo[]> {
      const self = entry()
      const selfInfo: NodeInfo = { ...self, self: true }
      if (bus.state() !== 'ok') return [selfInfo]
      let entries: Map<string, string>
      try {
        entries = await bus.entries(BUS_GROUPS.nodes)
      } catch (error) {
        logger.debug({ err: error }, 'node registry read failed')
        return [selfInfo]
      }
      const others: NodeInfo[] = []
      for (const [id, value] of entries) {
        if (id === self.id) continue
        try {
          const parsed = JSON.parse(value) as NodeEntry
          others.push({ ...parsed, id, self: false })
        } catch {
          logger.warn({ nodeId: id }, 'ignored an unreadable node registry entry')
        }
      }
      return [selfInfo, ...others.sort((a, b) => a.id.localeCompare(b.id))]
    },
  }
}

export type ClusterNode = ReturnType<typeof createClusterNode>
