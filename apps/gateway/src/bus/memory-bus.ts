import { newId } from '../ids.js'
import { TopicHandlers } from './topic-handlers.js'
import type { BusState, ClusterBus } from './types.js'

interface Entry {
  value: string
  expiresAt: number
}

/**
 * A bus shared by the nodes of one process: the default for a single node, and a way to run several
 * gateways side by side in tests without Redis. Messages are delivered asynchronously (next microtask), as
 * they would be over a network, and never back to the publishing node.
 */
export interface MemoryBusNetwork {
  /** Joins the network as a node (state `ok`). */
  join(nodeId?: string): MemoryBus
  /** Simulates losing (false) and regaining (true) the shared bus for every node. */
  setReachable(reachable: boolean): void
}

export interface MemoryBus extends ClusterBus {
  /** Test hook: cuts (false) or restores (true) this node's link to the bus. */
  setReachable(reachable: boolean): void
}

export function createMemoryBusNetwork(options: { now?: () => number } = {}): MemoryBusNetwork {
  const now = options.now ?? Date.now
  const nodes = new Set<MemoryBusImpl>()
  const groups = new Map<string, Map<string, Entry>>()

  class MemoryBusImpl implements MemoryBus {
    readonly nodeId: string
    #reachable = true
    #closed = false
    readonly #handlers = new TopicHandlers()
    readonly #stateListeners = new Set<(state: BusState) => void>()

    constructor(nodeId: string) {
      this.nodeId = nodeId
    }

    state(): BusState {
      return this.#reachable ? 'ok' : 'degraded'
    }

    onState(listener: (state: BusState) => void): () => void {
      this.#stateListeners.add(listener)
      return () => this.#stateListeners.delete(listener)
    }

    setReachable(reachable: boolean): void {
      if (this.#reachable === reachable) return
      this.#reachable = reachable
      for (const listener of [...this.#stateListeners]) listener(this.state())
    }

    subscribe(topic: string, handler: (payload: string) => void): () => void {
      return this.#handlers.add(topic, handler)
    }

    publish(topic: string, payload: string): void {
      if (!this.#reachable || this.#closed) return
      for (const node of nodes) {
        if (node === this) continue
        node.#deliver(topic, payload)
      }
    }

    #deliver(topic: string, payload: string): void {
      if (!this.#reachable || this.#closed) return
      if (!this.#handlers.has(topic)) return
      queueMicrotask(() => {
        if (!this.#reachable || this.#closed) return
        for (const handler of this.#handlers.of(topic)) handler(payload)
      })
    }

    async putEntry(group: string, field: string, value: string, ttlMs: number): Promise<void> {
      if (!this.#reachable) throw new Error('bus unreachable')
      let entries = groups.get(group)
      if (entries === undefined) {
        entries = new Map()
        groups.set(group, entries)
      }
      entries.set(field, { value, expiresAt: now() + ttlMs })
    }

    async removeEntry(group: string, field: string): Promise<void> {
      if (!this.#reachable) throw new Error('bus unreachable')
      groups.get(group)?.delete(field)
    }

    async entries(group: string): Promise<Map<string, string>> {
      if (!this.#reachable) throw new Error('bus unreachable')
      const live = new Map<string, string>()
      const entries = groups.get(group)
      if (entries === undefined) return live
      const at = now()
      for (const [field, entry] of entries) {
        if (entry.expiresAt <= at) entries.delete(field)
        else live.set(field, entry.value)
      }
      return live
    }

    async close(): Promise<void> {
      this.#closed = true
      this.#handlers.clear()
      this.#stateListeners.clear()
      nodes.delete(this)
    }
  }

  return {
    join(nodeId = newId('node')) {
      const node = new MemoryBusImpl(nodeId)
      nodes.add(node)
      return node
    },
    setReachable(reachable) {
      for (const node of nodes) node.setReachable(reachable)
    },
  }
}

/** The bus of a gateway alone: state `local`, nothing crosses it. */
export function createLocalBus(nodeId: string = newId('node')): ClusterBus {
  const bus = createMemoryBusNetwork().join(nodeId)
  return {
    nodeId,
    state: () => 'local',
    onState: () => () => {},
    subscribe: (topic, handler) => bus.subscribe(topic, handler),
    publish: () => {},
    putEntry: (group, field, value, ttlMs) => bus.putEntry(group, field, value, ttlMs),
    removeEntry: (group, field) => bus.removeEntry(group, field),
    entries: (group) => bus.entries(group),
    close: () => bus.close(),
  }
}
