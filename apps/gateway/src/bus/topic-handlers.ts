type Handler = (payload: string) => void

/**
 * The local handlers of each topic, counted per topic so a bus subscribes upstream with the first and
 * unsubscribes after the last.
 */
export class TopicHandlers {
  readonly #byTopic = new Map<string, Set<Handler>>()

  /**
   * Adds `handler` to `topic` (a distinct entry per call, so adding one function twice needs two removals)
   * and returns its removal. `onFirst` runs when the topic had no handler; `onLast` when the removal takes
   * the topic's last one.
   */
  add(
    topic: string,
    handler: Handler,
    hooks: { onFirst?: () => void; onLast?: () => void } = {},
  ): () => void {
    let ofTopic = this.#byTopic.get(topic)
    const first = ofTopic === undefined
    if (ofTopic === undefined) {
      ofTopic = new Set()
      this.#byTopic.set(topic, ofTopic)
    }
    const wrapper: Handler = (payload) => handler(payload)
    ofTopic.add(wrapper)
    if (first) hooks.onFirst?.()
    return () => {
      const current = this.#byTopic.get(topic)
      if (current === undefined || !current.delete(wrapper) || current.size > 0) return
      this.#byTopic.delete(topic)
      hooks.onLast?.()
    }
  }

  /** The topic's handlers at this moment (a copy: a handler may remove itself while they run). */
  of(topic: string): Handler[] {
    return [...(this.#byTopic.get(topic) ?? [])]
  }

  has(topic: string): boolean {
    return this.#byTopic.has(topic)
  }

  topics(): string[] {
    return [...this.#byTopic.keys()]
  }

  clear(): void {
    this.#byTopic.clear()
  }
}
