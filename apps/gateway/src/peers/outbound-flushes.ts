/** Something with frames queued during this event-loop turn. */
export interface QueuedOutbound {
  /** Writes what it queued (one batch per connection). */
  flushQueued(): void
}

/**
 * Writes the frames connections queued during an event-loop turn, all in one `setImmediate`: a fan-out to
 * a thousand subscribers schedules one callback, not one per subscriber. Each connection's frames still go
 * out as one batch, in the order the connections first queued something this turn.
 */
export class OutboundFlushes {
  #pending: QueuedOutbound[] = []
  #scheduled = false

  /** Flushes `outbound` at the end of this turn; call it once per turn, when its queue starts. */
  schedule(outbound: QueuedOutbound): void {
    this.#pending.push(outbound)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#flushAll)
  }

  readonly #flushAll = (): void => {
    this.#scheduled = false
    const pending = this.#pending
    this.#pending = []
    let failure: { error: unknown } | undefined
    for (const outbound of pending) {
      // One connection's failure must not leave the others' frames unwritten; it is rethrown after.
      try {
        outbound.flushQueued()
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure !== undefined) throw failure.error
  }
}
