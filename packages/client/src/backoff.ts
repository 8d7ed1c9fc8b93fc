export interface BackoffOptions {
  initialDelayMs: number
  maxDelayMs: number
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(max, initial * 2^attempt)).
 * Spreading the whole range (not just a small jitter around the exponential) is what keeps thousands of
 * clients from reconnecting in lockstep after a gateway restart. `attempt` counts from 0.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  // Cap the exponent so 2^attempt cannot overflow to Infinity on long outages.
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}

/**
 * Delay after a `shutdown` frame: at least what the gateway asked for, plus jitter over as much again so the
 * drained clients do not all return in the same millisecond.
 */
export function shutdownDelay(
  reconnectAfterMs: number,
  initialDelayMs: number,
  random: () => number,
): number {
  return reconnectAfterMs + Math.floor(random() * Math.max(reconnectAfterMs, initialDelayMs))
}
