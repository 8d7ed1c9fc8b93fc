/**
 * The cluster bus: how gateway nodes reach each other. One node alone uses the in-process bus (state
 * `local`); several nodes share Redis (`ok`, or `degraded` while Redis is unreachable: each node then keeps
 * serving its own clients, and catches up when the bus is back).
 *
 * Two primitives are enough for everything that crosses nodes:
 * - topics (pub/sub, best effort, never delivered back to the publishing node): channel fan-out on
 *   `channel:<name>` (a node subscribes only while it has local subscribers), node-addressed messages on
 *   `node:<id>`, and cluster-wide events on `all`;
 * - groups of entries with a time to live (presence, node registry, where each client id is connected):
 *   written by their owner node, read by every node; an entry whose owner stops refreshing it disappears.
 *
 * What must not be lost never travels on the bus alone: publications are stored (and numbered) by the
 * delivery backend first, and a node that missed bus messages fills the gap from the store by offset.
 */
export type BusState = 'local' | 'ok' | 'degraded'

export interface ClusterBus {
  /** This node's id, unique among the nodes sharing the bus. */
  readonly nodeId: string
  /** `local`: no other node can share it; `ok`: connected; `degraded`: the shared bus is unreachable. */
  state(): BusState
  /** Called on every state change (`ok` → `degraded` and back). Returns the unsubscribe function. */
  onState(listener: (state: BusState) => void): () => void

  /**
   * Starts receiving `topic` (from other nodes). Subscribing twice to one topic is allowed: each handler
   * gets every message; the bus subscribes upstream once and unsubscribes when the last handler goes.
   * Returns the function that removes this handler. After a bus outage topics are subscribed again
   * automatically.
   */
  subscribe(topic: string, handler: (payload: string) => void): () => void
  /** Sends `payload` to every other node subscribed to `topic`. Best effort: dropped while degraded. */
  publish(topic: string, payload: string): void

  /** Writes (or refreshes) `field` in `group`, owned by this node, visible to every node for `ttlMs`. */
  putEntry(group: string, field: string, value: string, ttlMs: number): Promise<void>
  removeEntry(group: string, field: string): Promise<void>
  /** Every live (unexpired) entry of `group`, from every node. */
  entries(group: string): Promise<Map<string, string>>

  /** Leaves the bus: unsubscribes, closes connections. Entries of this node expire by themselves. */
  close(): Promise<void>
}

/** Well-known topic and group names (prefixed by the implementation, e.g. `parley:`). */
export const BUS_TOPICS = {
  channel: (name: string) => `channel:${name}`,
  node: (id: string) => `node:${id}`,
  /** Every new version of a shared state namespace's keys (nodes with a watcher of it subscribe). */
  state: (namespace: string) => `state:${namespace}`,
  /** Signals relayed to a peer connected to node `id`, and the answers back to the sender's node. */
  signal: (id: string) => `signal:${id}`,
  all: 'all',
  /** Time-series questions of the admin API to every node (timeseries/timeseries-cluster.ts)… */
  figures: 'figures',
  /** …and the answers, to the asking node. */
  figuresFor: (id: string) => `figures:${id}`,
} as const

/** What a shared bus tells its observer (the metrics): names and timings only, never payloads. */
export interface BusObserver {
  /**
   * A message from another node arrived, `lagMs` after that node published it (by the two nodes' clocks).
   * `topic` is the topic's kind: `channel`, `node`, `state`, `signal`, `all`, or `other`.
   */
  received(topic: string, lagMs: number): void
  /** The bus is connected again after an outage (not counted for the first connection). */
  reconnected(): void
}

const TOPIC_KINDS = new Set(['channel', 'node', 'state', 'signal', 'all'])

/** The kind of a topic (`channel:orders` → `channel`): a bounded label, whatever the names in topics. */
export function topicKind(topic: string): string {
  const colon = topic.indexOf(':')
  const kind = colon < 0 ? topic : topic.slice(0, colon)
  return TOPIC_KINDS.has(kind) ? kind : 'other'
}
