import { TopicHandlers } from './topic-handlers.js'
import type { BusState, ClusterBus } from './types.js'

/** A bus the gateway hands out at creation and connects at `start()` (Redis is opened then). */
export interface DeferredBus extends ClusterBus {
  /** Connects to `bus`: topics subscribed so far are subscribed on it, and its state becomes this one's. */
  attach(bus: ClusterBus): void
  /** Disconnects (and closes) the attached bus; the state goes back to `degraded`. */
  detach(): Promise<void>
}

/**
 * Stands in for the shared bus while it is not connected (state `degraded`: publishes are dropped, entries
 * fail), so the hub can be built before `start()` opens Redis and keep its subscriptions across.
 */
export function createDeferredBus(nodeId: string): DeferredBus {
  const handlers = new TopicHandlers()
  const upstream = new Map<string, () => void>()
  const stateListeners = new Set<(state: BusState) => void>()
  let attached: ClusterBus | undefined
  let removeStateListener: (() => void) | undefined
  let lastState: BusState = 'degraded'

  function emit(): void {
    const next = attached?.state() ?? 'degraded'
    if (next === lastState) return
    lastState = next
    for (const listener of [...stateListeners]) listener(next)
  }

  function subscribeUpstream(topic: string): void {
    if (attached === undefined || upstream.has(topic)) return
    upstream.set(
      topic,
      attached.subscribe(topic, (payload) => {
        for (const handler of handlers.of(topic)) handler(payload)
      }),
    )
  }

  function requireAttached(): ClusterBus {
    if (attached === undefined) throw new Error('the cluster bus is not connected')
    return attached
  }

  return {
    nodeId,
    state: () => attached?.state() ?? 'degraded',
    onState(listener) {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    },
    subscribe(topic, handler) {
      return handlers.add(topic, handler, {
        onFirst: () => subscribeUpstream(topic),
        onLast: () => {
          upstream.get(topic)?.()
          upstream.delete(topic)
        },
      })
    },
    publish(topic, payload) {
      attached?.publish(topic, payload)
    },
    putEntry: (group, field, value, ttlMs) => requireAttached().putEntry(group, field, value, ttlMs),
    removeEntry: (group, field) => requireAttached().removeEntry(group, field),
    entries: (group) => requireAttached().entries(group),
    attach(bus) {
      attached = bus
      for (const topic of handlers.topics()) subscribeUpstream(topic)
      removeStateListener = bus.onState(() => emit())
      emit()
    },
    async detach() {
      const bus = attached
      if (bus === undefined) return
      removeStateListener?.()
      for (const unsubscribe of upstream.values()) unsubscribe()
      upstream.clear()
      attached = undefined
      emit()
      await bus.close()
    },
    async close() {
      await this.detach()
      handlers.clear()
      stateListeners.clear()
    },
  }
}
