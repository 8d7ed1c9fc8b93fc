export interface AuthFailureLimiterOptions {
  /** Failures allowed per address within a window; further attempts are refused until it ends. */
  limit: number
  windowMs: number
  /** Addresses remembered at most; the least recently seen is forgotten first. */
  maxAddresses?: number
  now?: () => number
}

export type LimitCheck =
  | { allowed: true }
  | {
      allowed: false
      retryAfterMs: number
      /** True for the first refusal of this address in this window: the one worth an audit row. */
      firstRefusal: boolean
    }

interface AddressEntry {
  windowStartedAt: number
  failures: number
  refusalReported: boolean
}

export const DEFAULT_MAX_TRACKED_ADDRESSES = 10_000

/**
 * Counts failed authentications per remote address in fixed windows. Memory is bounded: a Map kept in
 * least-recently-seen order holds at most `maxAddresses` entries. A success never resets a counter, so a
 * guesser holding one valid credential cannot clear its own. A null address (an in-process request with
 * no socket) is never limited.
 */
export function createAuthFailureLimiter(options: AuthFailureLimiterOptions) {
  const { limit, windowMs } = options
  const maxAddresses = options.maxAddresses ?? DEFAULT_MAX_TRACKED_ADDRESSES
  const now = options.now ?? Date.now
  const entries = new Map<string, AddressEntry>()

  /** The live entry of an address, moved to the most recently seen end; an expired window is dropped. */
  function touch(address: string, at: number): AddressEntry | undefined {
    const entry = entries.get(address)
    if (entry === undefined) return undefined
    entries.delete(address)
    if (at - entry.windowStartedAt >= windowMs) return undefined
    entries.set(address, entry)
    return entry
  }

  return {
    check(address: string | null): LimitCheck {
      if (address === null) return { allowed: true }
      const at = now()
      const entry = touch(address, at)
      if (entry === undefined || entry.failures < limit) return { allowed: true }
      const firstRefusal = !entry.refusalReported
      entry.refusalReported = true
      return {
        allowed: false,
        retryAfterMs: Math.max(1, entry.windowStartedAt + windowMs - at),
        firstRefusal,
      }
    },
    recordFailure(address: string | null): void {
      if (address === null) return
      const at = now()
      const entry = touch(address, at)
      if (entry !== undefined) {
        entry.failures += 1
        return
      }
      entries.set(address, { windowStartedAt: at, failures: 1, refusalReported: false })
      if (entries.size > maxAddresses) {
        const oldest = entries.keys().next()
        if (!oldest.done) entries.delete(oldest.value)
      }
    },
    get size(): number {
      return entries.size
    },
  }
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>
