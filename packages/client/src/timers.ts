// setTimeout fires at once for delays above 2^31 - 1 ms (and for Infinity); such timeouts mean "no timeout".
export const MAX_TIMER_DELAY_MS = 2_147_483_647

/** A timer for `delayMs`, or none when the delay is too long for a timer to mean anything. */
export function timeoutTimer(
  delayMs: number,
  onTimeout: () => void,
): ReturnType<typeof setTimeout> | undefined {
  if (!(delayMs <= MAX_TIMER_DELAY_MS)) return undefined
  return setTimeout(onTimeout, Math.max(0, delayMs))
}
