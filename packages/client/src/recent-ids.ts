/**
 * Remembers the last `capacity` message ids so a message delivered twice (a replay after a reconnect, an
 * at-least-once redelivery) reaches the handlers once. Bounded so memory stays flat on long-lived clients.
 */
export class RecentIds {
  // A Set iterates in insertion order, so its first entry is always the oldest.
  private readonly ids = new Set<string>()

  constructor(private readonly capacity = 1_000) {}

  has(id: string): boolean {
    return this.ids.has(id)
  }

  /** Records `id`; false when it was already seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next()
      if (!oldest.done) this.ids.delete(oldest.value)
    }
    return true
  }
}
