export interface FailureCounterOptions {
  /** Failures allowed per key within a window; further attempts are refused until it ends. */
  limit: number
  windowMs: number
  /** Keys remembered at most; the least recently seen is forgotten first. */
  maxKeys?: number
  now?: () => number
}

export type LimitCheck =
  | { allowed: true }
  | {
      allowed: false
      retryAfterMs: number
      /** True for the first refusal of this key in this window: the one worth an audit row. */
      firstRefusal: boolean
    }

interface KeyEntry {
  windowStartedAt: number
  failures: number
  refusalReported: boolean
}

export const DEFAULT_MAX_TRACKED_KEYS = 10_000

/**
 * Counts failures per key (an address, an address and credential, an approval link...) in fixed windows.
 * Memory is bounded: a Map kept in least-recently-seen order holds at most `maxKeys` entries. Nothing
 * resets a counter but the end of its window, so a guesser cannot clear its own.
 */
export function createFailureCounter(options: FailureCounterOptions) {
  const { limit, windowMs } = options
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_TRACKED_KEYS
  const now = options.now ?? Date.now
  const entries = new Map<string, KeyEntry>()

  /** The live entry of a key, moved to the most recently seen end; an expired window is dropped. */
  function touch(key: string, at: number): KeyEntry | undefined {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    entries.delete(key)
    if (at - entry.windowStartedAt >= windowMs) return undefined
    entries.set(key, entry)
    return entry
  }

  return {
    check(key: string): LimitCheck {
      const at = now()
      const entry = touch(key, at)
      if (entry === undefined || entry.failures < limit) return { allowed: true }
      const firstRefusal = !entry.refusalReported
      entry.refusalReported = true
      return {
        allowed: false,
        retryAfterMs: Math.max(1, entry.windowStartedAt + windowMs - at),
        firstRefusal,
      }
    },
    /** Counts one failure; answers whether it opened a new window for the key (its first failure in one). */
    recordFailure(key: string): { firstInWindow: boolean } {
      const at = now()
      const entry = touch(key, at)
      if (entry !== undefined) {
        entry.failures += 1
        return { firstInWindow: false }
      }
      entries.set(key, { windowStartedAt: at, failures: 1, refusalReported: false })
      if (entries.size > maxKeys) {
        const oldest = entries.keys().next()
        if (!oldest.done) entries.delete(oldest.value)
      }
      return { firstInWindow: true }
    },
    get size(): number {
      return entries.size
    },
  }
}

export type FailureCounter = ReturnType<typeof createFailureCounter>
