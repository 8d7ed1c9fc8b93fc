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

/**
 * Runs `fn` once the I/O already waiting has been handled. A process that did not run for a while (a busy or
 * starved host, a laptop waking, a throttled tab) runs its expired timers before it reads what its sockets
 * received meanwhile (Node's timers phase comes before its poll phase): a timeout that acted at once would
 * give up on a `welcome`, a reply or a ping that is already here, unread. Node: `setImmediate`, which runs after
 * the poll phase; elsewhere a 0 ms timeout.
 */
export function afterPendingIo(fn: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(fn)
  else setTimeout(fn, 0)
}

/**
 * A timeout that acts only after the I/O waiting when it fires was handled (`afterPendingIo`), and not at all
 * if it was cleared or set anew meanwhile (by what that I/O brought).
 */
export class Deadline {
  private timer: ReturnType<typeof setTimeout> | undefined
  private generation = 0

  /** Arms the deadline, replacing the one armed before. */
  set(delayMs: number, onTimeout: () => void): void {
    this.clear()
    const generation = this.generation
    this.timer = timeoutTimer(delayMs, () => {
      this.timer = undefined
      afterPendingIo(() => {
        if (this.generation === generation) onTimeout()
      })
    })
  }

  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.generation += 1
  }
}
