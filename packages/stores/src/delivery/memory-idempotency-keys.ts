/**
 * Idempotency keys of the memory stores (publish and send): each key's first result until its window ends.
 * Keys are remembered in insertion order, which is (nearly) expiry order, so expired ones are swept from
 * the front.
 */
export interface MemoryKeys<Result> {
  /** The first result of `key` if its window is still open at `now`. */
  live(key: string, now: number): Result | undefined
  /** Remembers `key`'s first result until `expiresAt` (re-inserted, to keep the expiry order). */
  remember(key: string, result: Result, expiresAt: number): void
  /** Forgets keys whose window has ended by `now`; returns how many. */
  sweep(now: number): number
}

export function createMemoryKeys<Result>(): MemoryKeys<Result> {
  const keys = new Map<string, { result: Result; expiresAt: number }>()
  return {
    live(key, now) {
      const remembered = keys.get(key)
      return remembered !== undefined && remembered.expiresAt > now ? remembered.result : undefined
    },
    remember(key, result, expiresAt) {
      keys.delete(key)
      keys.set(key, { result, expiresAt })
    },
    sweep(now) {
      let removed = 0
      for (const [key, remembered] of keys) {
        if (remembered.expiresAt > now) break
        keys.delete(key)
        removed += 1
      }
      return removed
    },
  }
}
