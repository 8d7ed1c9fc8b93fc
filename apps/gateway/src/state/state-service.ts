import {
  type ClientFrame,
  type ErrorBody,
  errorBody,
  type ServerFrame,
  StateChangeFrame,
  type StateEntry as StateEntrySchema,
} from '@parley/protocol'
import {
  InvalidStateEntryError,
  type StateStore,
  StateValueTooLargeError,
  type StateVersion,
  StateVersionConflictError,
  type StateEntry as StoredStateEntry,
} from '@parley/stores'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { decideAccess } from '../access/access-gate.js'
import { allowAllAccess } from '../agents/allow-all-access.js'
import type { AccessAction, AgentAccess } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import type { GatewayConfig } from '../config.js'
import { sendError } from '../peers/peer.js'

/** The frames this service answers. */
export type StateFrame = Extract<
  ClientFrame,
  {
    type:
      | 'state_get'
      | 'state_set'
      | 'state_delete'
      | 'state_list'
      | 'state_history'
      | 'state_watch'
      | 'state_unwatch'
  }
>

/** What the service needs of a connection (a `Connection` is one). */
export interface StateCaller {
  readonly id: string
  readonly principal: string
  readonly role: string
  readonly clientId: string
  readonly isOpen: boolean
  sendFrame(frame: ServerFrame): boolean
}

type StateEntry = z.infer<typeof StateEntrySchema>

/** One version of a key as it travels on the bus and reaches watchers (`state_change` without its type). */
const BusStateChange = StateChangeFrame.omit({ type: true })
type StateChange = z.infer<typeof BusStateChange>

/** Entries a `state_watch` of a whole namespace replies with, at most (the protocol's page). */
const WATCH_SNAPSHOT_LIMIT = 1_000
/** Attempts of a `state_delete` without `expectedVersion` against concurrent writers (see `deleteKey`). */
const DELETE_ATTEMPTS = 20

export interface StateServiceOptions {
  config: GatewayConfig['state']
  /** The shared state store; throws `unavailable` until the gateway has opened it. */
  store: () => StateStore
  bus: ClusterBus
  /** Policies; default: allow all. */
  access?: () => AgentAccess
  /** The agent registered on a connection, so policies see its agent id and capabilities. */
  agentOf?: (connectionId: string) => { agentId: string; capabilities: readonly string[] } | undefined
  audit: ConnectionAudit
  logger: Logger
}

/** One `state_watch` of one connection: a key, or a whole namespace (`key` undefined). */
interface Watch {
  caller: StateCaller
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

class StateFailure extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message)
  }
}

/**
 * Shared state over the connection: reads and compare-and-set writes against the store, and watches.
 *
 * Every successful write is published on the bus topic `state:<namespace>` and handed to this node's
 * watchers. A node subscribes to a namespace's topic only while it has a watcher of it. Each watcher keeps the
 * last version it has of each key and receives every later version exactly once, in version order: a
 * version that arrives twice is dropped, one that arrives ahead of a missing one (writers on other nodes
 * publish independently) first gets the missing ones from the store's history.
 */
export function createStateService(options: StateServiceOptions) {
  const { config, bus, audit, logger } = options
  const access = options.access ?? (() => allowAllAccess)
  const byNamespace = new Map<string, NamespaceWatches>()
  const byCaller = new Map<StateCaller, Map<string, Watch>>()

  function watchId(namespace: string, key: string | undefined): string {
    return key === undefined ? `${namespace}\u0000*` : `${namespace}\u0000=${key}`
  }

  function reply(caller: StateCaller, id: string, result: Record<string, unknown>): void {
    caller.sendFrame({ type: 'reply', id, result })
  }

  function subject(caller: StateCaller) {
    return { principal: caller.principal, clientId: caller.clientId || null, connectionId: caller.id }
  }

  /** Checks the policies; a denial is audited and thrown as the decision's error. */
  function authorize(caller: StateCaller, action: AccessAction, namespace: string, what: string): void {
    const channel = `state:${namespace}`
    const agent = options.agentOf?.(caller.id)
    const answer = decideAccess(
      access(),
      audit,
      {
        action,
        caller: {
          principal: caller.principal,
          role: caller.role,
          clientId: caller.clientId,
          ...(agent === undefined ? {} : { agentId: agent.agentId, capabilities: agent.capabilities }),
        },
        target: { channel },
      },
      { kind: 'state', subject: caller, channel, detailPrefix: what },
    )
    if (!answer.allowed) throw new StateFailure(answer.error)
  }

  function toEntry(namespace: string, stored: StoredStateEntry): StateEntry {
    return { namespace, ...stored }
  }

  /** The typed error of a store failure a client caused; undefined for the others (a store that is down). */
  function storeFailure(error: unknown): ErrorBody | undefined {
    if (error instanceof StateFailure) return error.body
    if (error instanceof StateVersionConflictError) {
      return errorBody('version_conflict', error.message, undefined, { currentVersion: error.currentVersion })
    }
    if (error instanceof StateValueTooLargeError) return errorBody('payload_too_large', error.message)
    if (error instanceof InvalidStateEntryError) return errorBody('bad_request', error.message)
    return undefined
  }

  function checkValueSize(value: unknown): number {
    const size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
    if (size > config.maxValueBytes) {
      throw new StateFailure(
        errorBody(
          'payload_too_large',
          `the value is ${size} bytes as JSON; state.maxValueBytes is ${config.maxValueBytes}`,
        ),
      )
    }
    return size
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
    let message: unknown
    try {
      message = JSON.parse(payload)
    } catch {
      return
    }
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

  async function get(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_get' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'get')
    const entry = await options.store().get(frame.namespace, frame.key)
    reply(caller, frame.id, { entry: entry === undefined ? null : toEntry(frame.namespace, entry) })
  }

  async function set(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_set' }>) {
    authorize(caller, 'publish', frame.namespace, 'set')
    const size = checkValueSize(frame.value)
    const stored = await options.store().set(frame.namespace, frame.key, frame.value, {
      by: caller.principal,
      ...(frame.expectedVersion === undefined ? {} : { expectedVersion: frame.expectedVersion }),
    })
    const entry = toEntry(frame.namespace, stored)
    reply(caller, frame.id, { entry })
    audit.record({
      kind: 'state',
      outcome: 'ok',
      channel: `state:${frame.namespace}`,
      target: frame.key,
      size,
      detail: `set version ${entry.version}`,
      ...subject(caller),
    })
    written({
      namespace: entry.namespace,
      key: entry.key,
      version: entry.version,
      value: entry.value,
      deleted: false,
      updatedBy: entry.updatedBy,
      updatedAt: entry.updatedAt,
    })
  }

  /**
   * Deletes and learns the version the deletion took. The store answers only whether it deleted, so a
   * delete without `expectedVersion` reads the version and deletes at it, again if another writer came first.
   */
  async function deleteKey(
    namespace: string,
    key: string,
    expectedVersion: number | undefined,
    by: string,
    now: number,
  ): Promise<number | undefined> {
    const store = options.store()
    if (expectedVersion !== undefined) {
      const deleted = await store.delete(namespace, key, { expectedVersion, by, now })
      return deleted ? expectedVersion + 1 : undefined
    }
    for (let attempt = 0; attempt < DELETE_ATTEMPTS; attempt += 1) {
      const current = await store.get(namespace, key)
      if (current === undefined) return undefined
      try {
        await store.delete(namespace, key, { expectedVersion: current.version, by, now })
        return current.version + 1
      } catch (error) {
        if (!(error instanceof StateVersionConflictError)) throw error
      }
    }
    throw new StateFailure(
      errorBody(
        'version_conflict',
        'the key kept changing while it was being deleted; try again',
        undefined,
        {
          currentVersion: (await store.get(namespace, key))?.version ?? 0,
        },
      ),
    )
  }

  async function remove(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_delete' }>) {
    authorize(caller, 'publish', frame.namespace, 'delete')
    const now = Date.now()
    const version = await deleteKey(frame.namespace, frame.key, frame.expectedVersion, caller.principal, now)
    reply(caller, frame.id, version === undefined ? { deleted: false } : { deleted: true, version })
    if (version === undefined) return
    audit.record({
      kind: 'state',
      outcome: 'ok',
      channel: `state:${frame.namespace}`,
      target: frame.key,
      detail: `delete version ${version}`,
      ...subject(caller),
    })
    written({
      namespace: frame.namespace,
      key: frame.key,
      version,
      value: null,
      deleted: true,
      updatedBy: caller.principal,
      updatedAt: now,
    })
  }

  async function list(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_list' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'list')
    const entries = await options.store().list(frame.namespace, {
      ...(frame.after === undefined ? {} : { after: frame.after }),
      ...(frame.limit === undefined ? {} : { limit: frame.limit }),
    })
    reply(caller, frame.id, { entries: entries.map((entry) => toEntry(frame.namespace, entry)) })
  }

  async function history(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_history' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'history')
    const versions = await options.store().history(frame.namespace, frame.key, {
      limit: Math.min(frame.limit ?? config.maxHistoryPerKey, config.maxHistoryPerKey),
    })
    reply(caller, frame.id, { versions })
  }

  async function watch(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_watch' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'watch')
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

  function unwatchOne(caller: StateCaller, id: string): void {
    const ofCaller = byCaller.get(caller)
    const existing = ofCaller?.get(id)
    if (ofCaller === undefined || existing === undefined) return
    ofCaller.delete(id)
    if (ofCaller.size === 0) byCaller.delete(caller)
    removeWatch(existing)
  }

  function unwatch(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_unwatch' }>): void {
    unwatchOne(caller, watchId(frame.namespace, frame.key))
    reply(caller, frame.id, {
      namespace: frame.namespace,
      ...(frame.key === undefined ? {} : { key: frame.key }),
    })
  }

  async function run(caller: StateCaller, frame: StateFrame): Promise<void> {
    switch (frame.type) {
      case 'state_get':
        return get(caller, frame)
      case 'state_set':
        return set(caller, frame)
      case 'state_delete':
        return remove(caller, frame)
      case 'state_list':
        return list(caller, frame)
      case 'state_history':
        return history(caller, frame)
      case 'state_watch':
        return watch(caller, frame)
      case 'state_unwatch':
        return unwatch(caller, frame)
    }
  }

  return {
    /**
     * Answers a state frame. Failures the client caused are answered here with their typed error; the
     * promise rejects only when the store itself failed (the hub answers `unavailable`).
     */
    async handle(caller: StateCaller, frame: StateFrame): Promise<void> {
      try {
        await run(caller, frame)
      } catch (error) {
        const body = storeFailure(error)
        if (body === undefined) throw error
        sendError(caller, body, frame.id)
      }
    },

    /** Drops the connection's watches (it closed). */
    connectionClosed(caller: StateCaller): void {
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

export type StateService = ReturnType<typeof createStateService>
