import type { UpstreamKind, UpstreamRecord, UpstreamStore } from '@parley/stores'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'

/** Bus topic on which a node that changed the upstreams tells the others to reload them. */
export const UPSTREAMS_TOPIC = 'upstreams'

export type UpstreamsListener = (records: UpstreamRecord[]) => void | Promise<void>

export interface UpstreamWatch {
  /**
   * Calls `listener` with every upstream of `kind` now (once the watch started) and after each change, from any
   * node. Calls never overlap. Returns the function that removes the listener.
   */
  onChange(kind: UpstreamKind, listener: UpstreamsListener): () => void
  /** After this node changed the store: reloads here (listeners done when it resolves) and tells the other nodes. */
  changed(): Promise<void>
  /** The upstreams of `kind` as last loaded. */
  current(kind: UpstreamKind): UpstreamRecord[]
  start(): Promise<void>
  stop(): void
}

export interface UpstreamWatchOptions {
  store: () => UpstreamStore
  bus: ClusterBus
  /** Backstop for a lost bus message: how often the store's version is compared with the loaded one. */
  reloadIntervalMs: number
  logger: Logger
}

/**
 * Keeps this node's view of the registered upstreams current: a node that changes them reloads and publishes
 * on the bus; every node reloads on that message, and an interval comparing the store's version repairs a lost
 * one (the store, not the bus, is the truth).
 */
export function createUpstreamWatch(options: UpstreamWatchOptions): UpstreamWatch {
  const { bus, logger } = options
  const listeners = new Map<UpstreamKind, Set<UpstreamsListener>>()
  let records: UpstreamRecord[] = []
  let version = -1
  let running = false
  let queue: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => void) | undefined

  async function notify(kind: UpstreamKind, listener: UpstreamsListener): Promise<void> {
    try {
      await listener(records.filter((record) => record.kind === kind))
    } catch (error) {
      logger.error({ err: error, kind }, 'an upstream listener failed')
    }
  }

  /** Reloads when the version moved (or always with `force`); queued, so reloads never overlap. */
  function reload(force: boolean): Promise<void> {
    const next = queue.then(async () => {
      if (!running) return
      const store = options.store()
      const latest = await store.version()
      if (!force && latest === version) return
      records = await store.list()
      version = latest
      for (const [kind, set] of listeners) for (const listener of set) await notify(kind, listener)
    })
    queue = next.catch(() => {})
    return next
  }

  return {
    onChange(kind, listener) {
      let set = listeners.get(kind)
      if (set === undefined) {
        set = new Set()
        listeners.set(kind, set)
      }
      set.add(listener)
      if (running) queue = queue.then(() => notify(kind, listener))
      return () => listeners.get(kind)?.delete(listener)
    },
    async changed() {
      await reload(true)
      bus.publish(UPSTREAMS_TOPIC, JSON.stringify({ kind: 'reload', from: bus.nodeId }))
    },
    current: (kind) => records.filter((record) => record.kind === kind),
    async start() {
      if (running) return
      running = true
      unsubscribe = bus.subscribe(UPSTREAMS_TOPIC, () => {
        reload(true).catch((error: unknown) => logger.warn({ err: error }, 'upstream reload failed'))
      })
      timer = setInterval(() => {
        reload(false).catch((error: unknown) => logger.warn({ err: error }, 'upstream reload check failed'))
      }, options.reloadIntervalMs)
      timer.unref()
      await reload(true).catch((error: unknown) => logger.warn({ err: error }, 'upstream load failed'))
    },
    stop() {
      running = false
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      unsubscribe?.()
      unsubscribe = undefined
      records = []
      version = -1
    },
  }
}
