export type Listener<T> = (payload: T) => void

/**
 * A small event emitter whose listeners cannot hurt the emitter: a listener that throws is reported to
 * `onListenerError` and the remaining listeners still run. Works the same in browsers and Node.
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>()

  constructor(private readonly onListenerError: (event: keyof Events, error: unknown) => void) {}

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as Listener<never>)
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>)
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.listeners.get(event)
    if (set === undefined) return
    // Copy first: a listener may remove itself (or others) while we iterate.
    for (const listener of [...set]) {
      try {
        ;(listener as Listener<Events[E]>)(payload)
      } catch (error) {
        this.onListenerError(event, error)
      }
    }
  }
}
