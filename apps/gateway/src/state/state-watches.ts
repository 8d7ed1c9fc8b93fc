// `state_watch`: who watches which namespace or key on this node, and the hand-over of every version to each
// watcher once and in order (gaps filled from the store's history, catch-up after a bus outage).
import {
  errorBody,
  type ServerFrame,
  StateChangeFrame,
  type StateEntry as StateEntrySchema,
  type StateUnwatchFrame,
  type StateWatchFrame,
} from '@parley/protocol'
import type { StateStore, StateVersion, StateEntry as StoredStateEntry } from '@parley/stores'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { readBusPayload } from '../bus/bus-payload.js'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import type { GatewayConfig } from '../config.js'
import { StateFailure } from './state-failure.js'

/** What a watch needs of its connection. */
export interface StateWatcher {
  readonly isOpen: boolean
  sendFrame(frame: ServerFrame): boolean
}

export type StateEntry = z.infer<typeof StateEntrySchema>

export function toEntry(namespace: string, stored: StoredStateEntry): StateEntry {
  return { namespace, ...stored }
}

/** One version of a key as it travels on the bus and reaches watchers (`state_change` without its type). */
const BusStateChange = StateChangeFrame.omit({ type: true })
type StateChange = z.infer<typeof BusStateChange>

/** Entries a `state_watch` of a whole namespace replies with, at most (the protocol's page). */
const WATCH_SNAPSHOT_LIMIT = 1_000

/** One `state_watch` of one connection: a key, or a whole namespace (`key` undefined). */
interface Watch {
  caller: StateWatcher
  namespace: string
  key: string | undefined
  /** Per key, the last version this watcher has (from its snapshot, or delivered since). */
  seen: Map<string, number>
  /** Whether the snapshot held every live key (a namespace of more than 1,000 keys does not). */
  snapshotComplete: boolean
  /** Changes that arrived while the snapshot was being read; undefined once the watch is live. */
  pending: StateChange[] | undefined
}

interface NamespaceWatches {
  watches: Set<Watch>
  /** Leaves the namespace's bus topic. */
  unsubscribe: () => void
  /** Changes are handed to watchers one at a time, in arrival order; gaps are filled in between. */
  queue: Promise<void>
}

export interface StateWatchesOptions {
  config: GatewayConfig['state']
  /** The shared state store; throws `unavailable` until the gateway has opened it. */
  store: () => StateStore
  bus: ClusterBus
  logger: Logger
}

/**
 * The watches of this node. A node subscribes to a namespace's topic only while it has a watcher of it. Each
 * watcher keeps the last version it has of each key and receives every later version exactly once, in version
 * order: a version that arrives twice is dropped, one that arrives ahead of a missing one (writers on other
 * nodes publish independently) first gets the missing ones from the store's history.
 */
export function createStateWatches(options: StateWatchesOptions) {
  const { config, bus, logger } = options
  const byNamespace = new Map<string, NamespaceWatches>()
  const byCaller = new Map<StateWatcher, Map<string, Watch>>()

  function reply(caller: StateWatcher, id: string, result: Record<string, unknown>): void {
    caller.sendFrame({ type: 'reply', id, result })
  }

  function watchId(namespace: string, key: string | undefined): string {
    return key === undefined ? `${namespace}\u0000*` : `${namespace}\u0000=${key}`
  }

  /** Publishes a new version to the other nodes and hands it to this node's watchers. */
  function written(change: StateChange): void {
    bus.publish(BUS_TOPICS.state(change.namespace), JSON.stringify(change))
    changed(change)
  }

  function changed(change: StateChange): void {
    const namespace = byNamespace.get(change.namespace)
    if (namespace === undefined) return
    namespace.queue = namespace.queue
      .then(() => dispatch(namespace, change))
      .catch((error: unknown) =>
        logger.warn({ err: error, namespace: change.namespace }, 'state change delivery failed'),
      )
  }

  function received(payload: string): void {
    const message = readBusPayload(payload)
    if (message === undefined) return
    const parsed = BusStateChange.safeParse(message)
    if (parsed.success) changed(parsed.data)
    else
      logger.warn({ issues: parsed.error.issues.length }, 'ignored an unreadable state change from the bus')
  }

  async function dispatch(namespace: NamespaceWatches, change: StateChange): Promise<void> {
    let history: Promise<StateVersion[]> | undefined
    const versions = () => {
      history ??= options.store().history(change.namespace, change.key)
      return history
    }
    for (const watch of namespace.watches) {
      if (watch.key !== undefined && watch.key !== change.key) continue
      if (watch.pending !== undefined) {
        watch.pending.push(change)
        continue
      }
      await deliver(watch, change, versions)
    }
  }

  /** Sends `change` to the watcher, after any version between the watcher's last one and it. */
  async function deliver(
    watch: Watch,
    change: StateChange,
    history: () => Promise<StateVersion[]>,
  ): Promise<void> {
    if (!watch.caller.isOpen) return
    const seen = watch.seen.get(change.key)
    if (seen !== undefined && change.version <= seen) return
    const inOrder = seen === undefined ? change.version === 1 : change.version === seen + 1
    // A key outside a truncated snapshot has no known last version: it is taken as it comes.
    if (inOrder || (seen === undefined && !watch.snapshotComplete)) {
      send(watch, change)
      return
    }
    let kept: StateVersion[]
    try {
      kept = [...(await history())].reverse()
    } catch (error) {
      // The store is down: the watcher still gets this version, with the gap logged rather than a stall.
      logger.warn({ err: error, namespace: change.namespace }, 'could not fill a state version gap')
      send(watch, change)
      return
    }
    // A key absent from the snapshot was never written or was deleted then: its versions after the
    // snapshot start after its last deletion up to this one. When this one is that deletion (its news came
    // after the snapshot), the watcher already has it: absent.
    const from =
      seen ??
      kept.filter((version) => version.deleted && version.version <= change.version).at(-1)?.version ??
      0
    if (from >= change.version) {
      watch.seen.set(change.key, change.version)
      return
    }
    for (const version of kept) {
      if (version.version <= from || version.version >= change.version) continue
      if ((watch.seen.get(change.key) ?? 0) >= version.version) continue
      send(watch, { namespace: change.namespace, key: change.key, ...version })
    }
    send(watch, change)
  }

  function send(watch: Watch, change: StateChange): void {
    const seen = watch.seen.get(change.key)
    if (seen !== undefined && change.version <= seen) return
    watch.seen.set(change.key, change.version)
    watch.caller.sendFrame({ type: 'state_change', ...change })
  }

  /**
   * After a bus outage: versions published meanwhile never arrived. Each watch compares what it has with
   * the store and gets the newer versions (the gap fill does the rest).
   */
  function catchUp(): void {
    for (const [name, namespace] of byNamespace) {
      namespace.queue = namespace.queue
        .then(async () => {
          for (const watch of namespace.watches) {
            if (watch.pending !== undefined) continue
            for (const change of await latestChanges(watch)) {
              await deliver(watch, change, () => options.store().history(name, change.key))
            }
          }
        })
        .catch((error: unknown) => logger.warn({ err: error, namespace: name }, 'state catch-up failed'))
    }
  }

  /** The newest version of each key the watch covers that is newer than what it has. */
  async function latestChanges(watch: Watch): Promise<StateChange[]> {
    const store = options.store()
    const latest: StateChange[] = []
    if (watch.key !== undefined) {
      const [newest] = await store.history(watch.namespace, watch.key, { limit: 1 })
      if (newest !== undefined) latest.push({ namespace: watch.namespace, key: watch.key, ...newest })
    } else {
      for (const entry of await store.list(watch.namespace, { limit: WATCH_SNAPSHOT_LIMIT })) {
        latest.push({ namespace: watch.namespace, ...entry, deleted: false })
      }
    }
    return latest.filter((change) => change.version > (watch.seen.get(change.key) ?? 0))
  }

  const stopCatchUp = bus.onState((state) => {
    if (state === 'ok') catchUp()
  })

  function watchesOf(namespace: string): NamespaceWatches {
    let watches = byNamespace.get(namespace)
    if (watches === undefined) {
      watches = {
        watches: new Set(),
        unsubscribe: bus.subscribe(BUS_TOPICS.state(namespace), received),
        queue: Promise.resolve(),
      }
      byNamespace.set(namespace, watches)
    }
    return watches
  }

  function removeWatch(watch: Watch): void {
    const namespace = byNamespace.get(watch.namespace)
    if (namespace === undefined) return
    namespace.watches.delete(watch)
    if (namespace.watches.size > 0) return
    namespace.unsubscribe()
    byNamespace.delete(watch.namespace)
  }

  /** `state_watch`, once the caller may watch: replies with the snapshot, then hands over every later version. */
  async function watch(caller: StateWatcher, frame: StateWatchFrame) {
    const id = watchId(frame.namespace, frame.key)
    const ofCaller = byCaller.get(caller) ?? new Map<string, Watch>()
    const existing = ofCaller.get(id)
    if (existing === undefined && ofCaller.size >= config.maxWatchesPerConnection) {
      throw new StateFailure(
        errorBody(
          'rate_limited',
          `this connection already has ${config.maxWatchesPerConnection} watches (state.maxWatchesPerConnection); unwatch one first`,
        ),
      )
    }
    const current: Watch = existing ?? {
      caller,
      namespace: frame.namespace,
      key: frame.key,
      seen: new Map(),
      snapshotComplete: true,
      pending: [],
    }
    if (existing === undefined) {
      // Listening before reading the snapshot: a write in between is either in the snapshot or waits in
      // `pending`, never lost.
      ofCaller.set(id, current)
      byCaller.set(caller, ofCaller)
      watchesOf(frame.namespace).watches.add(current)
    }
    let entries: StateEntry[]
    try {
      entries = await snapshot(current, existing === undefined)
    } catch (error) {
      if (existing === undefined) unwatchOne(caller, id)
      throw error
    }
    if (!caller.isOpen || byCaller.get(caller)?.get(id) !== current) return
    reply(caller, frame.id, {
      namespace: frame.namespace,
      ...(frame.key === undefined ? {} : { key: frame.key }),
      entries,
    })
    if (existing !== undefined) return
    const namespace = byNamespace.get(frame.namespace)
    if (namespace === undefined) return
    // After the reply, in the namespace's queue: what waited is delivered before anything newer.
    namespace.queue = namespace.queue
      .then(async () => {
        const waited = current.pending ?? []
        current.pending = undefined
        for (const change of waited) {
          await deliver(current, change, () => options.store().history(change.namespace, change.key))
        }
      })
      .catch((error: unknown) =>
        logger.warn({ err: error, namespace: frame.namespace }, 'state change delivery failed'),
      )
  }

  /** The watch's current entries; on a new watch, also where each key's versions start for it. */
  async function snapshot(current: Watch, fresh: boolean): Promise<StateEntry[]> {
    const store = options.store()
    if (current.key !== undefined) {
      const [latest] = await store.history(current.namespace, current.key, { limit: 1 })
      if (fresh)
        current.seen.set(current.key, Math.max(current.seen.get(current.key) ?? 0, latest?.version ?? 0))
      if (latest === undefined || latest.deleted) return []
      const { deleted: _deleted, ...entry } = latest
      return [{ namespace: current.namespace, key: current.key, ...entry }]
    }
    const stored = await store.list(current.namespace, { limit: WATCH_SNAPSHOT_LIMIT })
    if (fresh) {
      current.snapshotComplete = stored.length < WATCH_SNAPSHOT_LIMIT
      for (const entry of stored) {
        current.seen.set(entry.key, Math.max(current.seen.get(entry.key) ?? 0, entry.version))
      }
    }
    return stored.map((entry) => toEntry(current.namespace, entry))
  }

  function unwatchOne(caller: StateWatcher, id: string): void {
    const ofCaller = byCaller.get(caller)
    const existing = ofCaller?.get(id)
    if (ofCaller === undefined || existing === undefined) return
    ofCaller.delete(id)
    if (ofCaller.size === 0) byCaller.delete(caller)
    removeWatch(existing)
  }

  function unwatch(caller: StateWatcher, frame: StateUnwatchFrame): void {
    unwatchOne(caller, watchId(frame.namespace, frame.key))
    reply(caller, frame.id, {
      namespace: frame.namespace,
      ...(frame.key === undefined ? {} : { key: frame.key }),
    })
  }

  return {
    written,
    watch,
    unwatch,

    /** Drops the connection's watches (it closed). */
    connectionClosed(caller: StateWatcher): void {
      const ofCaller = byCaller.get(caller)
      if (ofCaller === undefined) return
      byCaller.delete(caller)
      for (const watch of ofCaller.values()) removeWatch(watch)
    },

    /** Watches on this node now (metrics, tests). */
    watchCount(): number {
      let count = 0
      for (const namespace of byNamespace.values()) count += namespace.watches.size
      return count
    },

    /** Leaves every namespace topic (at stop, before the bus closes). */
    close(): void {
      stopCatchUp()
      for (const namespace of byNamespace.values()) namespace.unsubscribe()
      byNamespace.clear()
      byCaller.clear()
    },
  }
}
