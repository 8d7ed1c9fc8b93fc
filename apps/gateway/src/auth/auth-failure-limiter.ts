import { createHmac, randomBytes } from 'node:crypto'
import { createFailureCounter, DEFAULT_MAX_TRACKED_KEYS, type LimitCheck } from './failure-counter.js'

export type { LimitCheck } from './failure-counter.js'

export interface AuthFailureLimiterOptions {
  /**
   * Failures allowed within a window for one credential from one address, and different wrong credentials
   * allowed from one address; beyond either, attempts are refused until the window ends.
   */
  limit: number
  windowMs: number
  /** Addresses (and address + credential pairs) remembered at most; the least recently seen go first. */
  maxAddresses?: number
  /** Credentials remembered as valid at most; the least recently used go first. */
  maxKnownCredentials?: number
  /**
   * Different wrong credentials a relay (the dashboard server, naming its browsers' addresses) may pass on
   * within a window, as a multiple of `limit`: guessing stays bounded even if a browser could pick the
   * address the dashboard names for it.
   */
  relayFactor?: number
  now?: () => number
}

export const DEFAULT_MAX_TRACKED_ADDRESSES = DEFAULT_MAX_TRACKED_KEYS
export const DEFAULT_RELAY_FACTOR = 10

/** What stands for "no credential presented" in the pair key. */
const NO_CREDENTIAL = '-'

/**
 * The failed-authentication limit, keyed so that one party's failures cannot lock out another's valid
 * credential:
 * - per (address, credential): retrying the same wrong or stale token is refused after `limit` failures,
 *   without touching a store; other credentials from that address are not affected;
 * - per address: after `limit` *different* wrong credentials in a window (guessing), unknown credentials
 *   from that address are refused unchecked, so brute force stays bounded at `limit` guesses per address
 *   per window;
 * - per relay (the dashboard server, for the browsers it names): after `limit` x `relayFactor` different
 *   wrong credentials in a window, unknown credentials it relays are refused unchecked;
 * - a credential that authenticated before (remembered by fingerprint) is still checked from a limited
 *   address: a guesser does not know it, and its owner keeps working.
 * Credentials are remembered only as an HMAC under a key that lives and dies with the process. A success
 * never resets a counter, so a guesser holding one valid credential cannot clear its own. A null address
 * (an in-process request with no socket) is never limited.
 */
export function createAuthFailureLimiter(options: AuthFailureLimiterOptions) {
  const maxKeys = options.maxAddresses ?? DEFAULT_MAX_TRACKED_ADDRESSES
  const maxKnown = options.maxKnownCredentials ?? DEFAULT_MAX_TRACKED_KEYS
  const counterOptions = {
    limit: options.limit,
    windowMs: options.windowMs,
    maxKeys,
    ...(options.now === undefined ? {} : { now: options.now }),
  }
  const pairs = createFailureCounter(counterOptions)
  const addresses = createFailureCounter(counterOptions)
  const relays = createFailureCounter({
    ...counterOptions,
    limit: options.limit * (options.relayFactor ?? DEFAULT_RELAY_FACTOR),
  })
  const knownGood = new Set<string>()
  const fingerprintKey = randomBytes(32)

  function fingerprint(credential: string | undefined): string {
    if (credential === undefined) return NO_CREDENTIAL
    return createHmac('sha256', fingerprintKey).update(credential, 'utf8').digest('base64url').slice(0, 22)
  }

  return {
    /** Whether an attempt with `credential` from `address` may be checked at all. */
    check(address: string | null, credential?: string, relayedBy?: string): LimitCheck {
      if (address === null) return { allowed: true }
      const print = fingerprint(credential)
      const pair = pairs.check(`${address} ${print}`)
      if (!pair.allowed) return pair
      if (knownGood.has(print)) return { allowed: true }
      const fromAddress = addresses.check(address)
      if (!fromAddress.allowed || relayedBy === undefined) return fromAddress
      return relays.check(relayedBy)
    },
    recordFailure(address: string | null, credential?: string, relayedBy?: string): void {
      if (address === null) return
      const print = fingerprint(credential)
      knownGood.delete(print)
      // Only a credential new to this address in this window counts as another guess from it.
      if (!pairs.recordFailure(`${address} ${print}`).firstInWindow) return
      addresses.recordFailure(address)
      if (relayedBy !== undefined) relays.recordFailure(relayedBy)
    },
    recordSuccess(credential: string | undefined): void {
      if (credential === undefined) return
      const print = fingerprint(credential)
      knownGood.delete(print)
      knownGood.add(print)
      if (knownGood.size > maxKnown) {
        const oldest = knownGood.values().next()
        if (!oldest.done) knownGood.delete(oldest.value)
      }
    },
    /** Entries held: address + credential pairs, addresses and relays. */
    get size(): number {
      return pairs.size + addresses.size + relays.size
    },
  }
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>
