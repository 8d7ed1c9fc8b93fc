/**
 * A listener may return a promise (an async handler). `emit` reports its rejection like a throw;
 * `emitAndWait` waits for it, which is how deliveries are acknowledged only after their handlers finished.
 */
export type Listener<T> = (payload: T) => unknown

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * A small event emitter whose listeners cannot hurt the emitter: a listener that throws (or whose promise
 * rejects) is reported to `onListenerError` and the remaining listeners still run. Works the same in
 * browsers and Node.
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
    for (const outcome of this.run(event, payload)) {
      if (outcome.failed) this.onListenerError(event, outcome.error)
      else if (isThenable(outcome.value)) {
        Promise.resolve(outcome.value).catch((error: unknown) => this.onListenerError(event, error))
      }
    }
  }

  /**
   * Runs every listener like `emit`, then waits for the promises they returned. Resolves (never rejects)
   * with what the listeners threw or rejected with: an empty list means every listener succeeded.
   */
  async emitAndWait<E extends keyof Events>(event: E, payload: Events[E]): Promise<unknown[]> {
    const settled = await Promise.allSettled(
      this.run(event, payload).map((outcome) =>
        outcome.failed ? Promise.reject(outcome.error) : Promise.resolve(outcome.value),
      ),
    )
    return settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  }

  private run<E extends keyof Events>(
    event: E,
    payload: Events[E],
  ): Array<{ failed: false; value: unknown } | { failed: true; error: unknown }> {
    const set = this.listeners.get(event)
    if (set === undefined) return []
    // Copy first: a listener may remove itself (or others) while we iterate.
    return [...set].map((listener) => {
      try {
        return { failed: false, value: (listener as Listener<Events[E]>)(payload) }
      } catch (error) {
        return { failed: true, error }
      }
    })
  }
}
