import {
  type ClientFrame,
  StateDeleteResult,
  type StateEntryWire,
  StateGetResult,
  StateHistoryResult,
  StateListResult,
  StateSetResult,
  type StateVersionEntry,
  StateWatchResult,
} from '@parley/protocol'
import { ParleyError, VersionConflictError } from './errors.js'
import { parseResult } from './input-checks.js'

/** One key of a shared-state namespace at one version. */
export type StateEntry = StateEntryWire
export type { StateVersionEntry }

/** One version of a watched key, as a watch listener gets it (deletions have `deleted: true`). */
export interface StateChangeEvent {
  namespace: string
  key: string
  version: number
  value: unknown
  deleted: boolean
  updatedBy: string
  updatedAt: number
}

export type StateWatchListener = (change: StateChangeEvent) => unknown

/** A live watch to read with `for await`; leaving the loop or `close()` ends it. */
export interface StateChangeStream extends AsyncIterable<StateChangeEvent> {
  close(): Promise<void>
}

export interface StateWriteOptions {
  /** Compare-and-set: write only when the key is at this version now (0: only when it does not exist). */
  expectedVersion?: number
}

export interface StateUpdateOptions {
  /** How many more times to try after a `version_conflict`. Default 5. */
  retries?: number
}

type Call = (
  body: DistributiveOmit<Extract<ClientFrame, { id: string }>, 'id'>,
) => Promise<Record<string, unknown>>
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

interface Watch {
  namespace: string
  key: string | undefined
  listeners: Set<StateWatchListener>
}

/**
 * Shared state: versioned key-value namespaces kept by the gateway (`client.sharedState`). Watches survive
 * reconnects: they are renewed after every welcome and only versions newer than the last one seen of each key
 * reach the listeners, so nothing repeats and nothing written while offline is missed (deletions while offline
 * excepted: see docs/notes-client.md).
 */
export class SharedState {
  private readonly watches = new Map<string, Watch>()
  /** The last version delivered per `namespace\0key`. */
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly call: Call,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  async get(namespace: string, key: string): Promise<StateEntry | null> {
    const result = await this.call({ type: 'state_get', namespace, key })
    return parseResult(StateGetResult, result, 'state_get').entry
  }

  /** Writes `value`; with `expectedVersion` a mismatch rejects with `VersionConflictError` (`currentVersion`). */
  async set(
    namespace: string,
    key: string,
    value: unknown,
    options: StateWriteOptions = {},
  ): Promise<StateEntry> {
    if (value === undefined) throw new ParleyError({ code: 'bad_request', message: 'value is required' })
    const body: Extract<Parameters<Call>[0], { type: 'state_set' }> = {
      type: 'state_set',
      namespace,
      key,
      value,
    }
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion
    const result = await this.call(body)
    return parseResult(StateSetResult, result, 'state_set').entry
  }

  async delete(
    namespace: string,
    key: string,
    options: StateWriteOptions = {},
  ): Promise<{ deleted: boolean; version?: number }> {
    const body: Extract<Parameters<Call>[0], { type: 'state_delete' }> = {
      type: 'state_delete',
      namespace,
      key,
    }
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion
    const result = await this.call(body)
    return parseResult(StateDeleteResult, result, 'state_delete')
  }

  async list(namespace: string, options: { after?: string; limit?: number } = {}): Promise<StateEntry[]> {
    const result = await this.call({ type: 'state_list', namespace, ...options })
    return parseResult(StateListResult, result, 'state_list').entries
  }

  /** The key's versions, newest first (deletions included). */
  async history(
    namespace: string,
    key: string,
    options: { limit?: number } = {},
  ): Promise<StateVersionEntry[]> {
    const result = await this.call({ type: 'state_history', namespace, key, ...options })
    return parseResult(StateHistoryResult, result, 'state_history').versions
  }

  /**
   * Read-modify-write with compare-and-set: `fn` gets the current value (undefined when absent) and returns
   * the new one; on a `version_conflict` it runs again on the fresh value, up to `retries` more times.
   */
  async update<T>(
    namespace: string,
    key: string,
    fn: (current: T | undefined, entry: StateEntry | null) => T | Promise<T>,
    options: StateUpdateOptions = {},
  ): Promise<StateEntry> {
    const retries = options.retries ?? 5
    for (let attempt = 0; ; attempt += 1) {
      const entry = await this.get(namespace, key)
      const next = await fn(entry === null ? undefined : (entry.value as T), entry)
      try {
        return await this.set(namespace, key, next, { expectedVersion: entry?.version ?? 0 })
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= retries) throw error
      }
    }
  }

  /**
   * Calls `listener` with the current value of `key` (or of every key of the namespace when `key` is
   * undefined), then with every later version. Resolves once the watch is live with a function that stops it.
   */
  async watch(
    namespace: string,
    key: string | undefined,
    listener: StateWatchListener,
  ): Promise<() => Promise<void>> {
    const id = watchId(namespace, key)
    let watch = this.watches.get(id)
    const fresh = watch === undefined
    if (watch === undefined) {
      watch = { namespace, key, listeners: new Set() }
      this.watches.set(id, watch)
    }
    // Listen at once: a change that arrives right after the watch reply must not be missed.
    watch.listeners.add(listener)
    let entries: StateEntry[]
    try {
      if (fresh) entries = await this.renew(watch, false)
      else if (key === undefined) entries = await this.list(namespace)
      else entries = await this.get(namespace, key).then((entry) => (entry === null ? [] : [entry]))
    } catch (error) {
      watch.listeners.delete(listener)
      if (watch.listeners.size === 0 && this.watches.get(id) === watch) this.watches.delete(id)
      throw error
    }
    // The current values, unless a newer version reached the listener meanwhile.
    for (const entry of entries) {
      if (entry.version >= (this.seen.get(`${entry.namespace}\u0000${entry.key}`) ?? 0)) {
        this.deliverTo(listener, change(entry))
      }
    }
    const live = watch
    return async () => {
      if (!live.listeners.delete(listener) || live.listeners.size > 0) return
      if (this.watches.get(id) === live) this.watches.delete(id)
      await this.call({
        type: 'state_unwatch',
        namespace,
        ...(key === undefined ? {} : { key }),
      }).catch(() => undefined)
    }
  }

  /**
   * `watch` as an async iterable: resolves once the watch is live; iterate it with `for await`, leave the loop
   * (or call `close()`) to unwatch. Changes queue up while the loop body runs.
   */
  async changes(namespace: string, key?: string): Promise<StateChangeStream> {
    const queue: StateChangeEvent[] = []
    let wake: (() => void) | undefined
    let closed = false
    const unwatch = await this.watch(namespace, key, (event) => {
      queue.push(event)
      wake?.()
    })
    const close = async (): Promise<void> => {
      if (closed) return
      closed = true
      wake?.()
      await unwatch()
    }
    return {
      close,
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<StateChangeEvent>> {
          while (queue.length === 0 && !closed) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            wake = undefined
          }
          const event = queue.shift()
          return event === undefined ? { done: true, value: undefined } : { done: false, value: event }
        },
        async return(): Promise<IteratorResult<StateChangeEvent>> {
          await close()
          return { done: true, value: undefined }
        },
      }),
    }
  }

  /** Namespaces and keys watched now. */
  get watched(): Array<{ namespace: string; key: string | undefined }> {
    return [...this.watches.values()].map(({ namespace, key }) => ({ namespace, key }))
  }

  /** After a reconnect: renews every watch and delivers what changed while offline. */
  async rewatch(): Promise<void> {
    await Promise.all(
      [...this.watches.values()].map(async (watch) => {
        const entries = await this.renew(watch, true)
        for (const entry of entries) this.dispatch(change(entry))
      }),
    )
  }

  /** A `state_change` frame: delivered once per version to every listener watching its key. */
  dispatch(event: StateChangeEvent): void {
    const seenKey = `${event.namespace}\u0000${event.key}`
    const last = this.seen.get(seenKey) ?? 0
    if (event.version <= last) return
    this.seen.set(seenKey, event.version)
    for (const id of [watchId(event.namespace, event.key), watchId(event.namespace, undefined)]) {
      const watch = this.watches.get(id)
      if (watch === undefined) continue
      for (const listener of [...watch.listeners]) this.deliverTo(listener, event)
    }
  }

  private async renew(watch: Watch, onlyNewer: boolean): Promise<StateEntry[]> {
    const result = await this.call({
      type: 'state_watch',
      namespace: watch.namespace,
      ...(watch.key === undefined ? {} : { key: watch.key }),
    })
    const { entries } = parseResult(StateWatchResult, result, 'state_watch')
    if (onlyNewer) return entries
    for (const entry of entries) {
      const seenKey = `${entry.namespace}\u0000${entry.key}`
      this.seen.set(seenKey, Math.max(this.seen.get(seenKey) ?? 0, entry.version))
    }
    return entries
  }

  private deliverTo(listener: StateWatchListener, event: StateChangeEvent): void {
    try {
      const outcome = listener(event)
      if (outcome instanceof Promise) outcome.catch(this.onListenerError)
    } catch (error) {
      this.onListenerError(error)
    }
  }
}

function watchId(namespace: string, key: string | undefined): string {
  return key === undefined ? `${namespace}\u0000*` : `${namespace}\u0000=${key}`
}

function change(entry: StateEntry): StateChangeEvent {
  return {
    namespace: entry.namespace,
    key: entry.key,
    version: entry.version,
    value: entry.value,
    deleted: false,
    updatedBy: entry.updatedBy,
    updatedAt: entry.updatedAt,
  }
}
