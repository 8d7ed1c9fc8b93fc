import { afterPendingIo, MAX_TIMER_DELAY_MS } from './timers.js'

// The gateway pings every heartbeatIntervalMs; missing two pings and a half means the link is dead even if
// the OS has not noticed (a laptop lid closed, a NAT entry dropped).
const LIVENESS_FACTOR = 2.5

/** Notices a silent link: nothing at all received for 2.5 heartbeat intervals. */
export class Liveness {
  private timer: ReturnType<typeof setTimeout> | undefined
  private limitMs = 0
  private lastReceivedAt = 0

  constructor(private readonly onSilent: (limitMs: number) => void) {}

  received(): void {
    this.lastReceivedAt = Date.now()
  }

  /** Starts watching with the heartbeat interval the `welcome` gave. */
  start(heartbeatIntervalMs: number): void {
    this.limitMs = heartbeatIntervalMs * LIVENESS_FACTOR
    this.arm()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Re-arms itself for the remaining time instead of being reset on every frame, which would cost a timer each. */
  private arm(): void {
    const remaining = this.limitMs - (Date.now() - this.lastReceivedAt)
    if (remaining <= 0) {
      this.onSilent(this.limitMs)
      return
    }
    // Capped: a longer delay would fire at once and turn this into a busy loop. Checked again once the frames
    // that arrived while this process did not run are read (`afterPendingIo`), and only if still watching.
    const timer = setTimeout(
      () =>
        afterPendingIo(() => {
          if (this.timer === timer) this.arm()
        }),
      Math.min(remaining, MAX_TIMER_DELAY_MS),
    )
    this.timer = timer
  }
}
