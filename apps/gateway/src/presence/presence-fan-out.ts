/** What the fan-out sends to: a local subscriber of a channel. */
export interface PresenceRecipient {
  send(frame: Buffer): boolean
}

export interface PresenceFanOutOptions {
  /** This node's live subscribers of a channel. */
  subscribersOf(channel: string): Iterable<PresenceRecipient>
  /**
   * After a delivery on a channel, frames for it are held this long and then delivered together; a channel
   * quiet for that long delivers its next frame at once. 0 delivers every frame at once.
   */
  intervalMs: number
  /** Frames delivered on `channel`, in order: detached sessions subscribed to it buffer them. */
  fannedOut?: (channel: string, frame: Buffer) => void
}

interface HeldFrames {
  frames: Buffer[]
  timer: NodeJS.Timeout
}

/**
 * Delivers presence frames to a channel's subscribers at most once per interval per channel. Each
 * subscriber's frames of one delivery are written in one event-loop turn, so its connection writes them as
 * one batch: while thousands join a channel, each of its subscribers gets one socket write per interval
 * instead of one per join. The frames themselves and their order on a channel are unchanged.
 */
export class PresenceFanOut {
  readonly #options: PresenceFanOutOptions
  /** Channels delivered to within the last interval, with the frames held for the end of it. */
  readonly #held = new Map<string, HeldFrames>()

  constructor(options: PresenceFanOutOptions) {
    this.#options = options
  }

  send(channel: string, frame: Buffer): void {
    const held = this.#held.get(channel)
    if (held !== undefined) {
      held.frames.push(frame)
      return
    }
    this.#deliver(channel, [frame])
    this.#hold(channel)
  }

  /**
   * Delivers the channel's held frames now, just before a publication goes to the same subscribers: in the
   * same event-loop turn each subscriber's connection writes them with the publication, one socket write
   * instead of another at the end of the interval (and the changes arrive before what was published after
   * them). The next frames are held for a new interval.
   */
  sendHeld(channel: string): void {
    const held = this.#held.get(channel)
    if (held === undefined || held.frames.length === 0) return
    clearTimeout(held.timer)
    this.#held.delete(channel)
    this.#deliver(channel, held.frames)
    this.#hold(channel)
  }

  /** Delivers every held frame now and stops the timers (the gateway is stopping). */
  flush(): void {
    const held = [...this.#held]
    this.#held.clear()
    for (const [channel, { frames, timer }] of held) {
      clearTimeout(timer)
      if (frames.length > 0) this.#deliver(channel, frames)
    }
  }

  #hold(channel: string): void {
    if (this.#options.intervalMs <= 0) return
    const held: HeldFrames = {
      frames: [],
      timer: setTimeout(() => this.#release(channel, held), this.#options.intervalMs),
    }
    held.timer.unref()
    this.#held.set(channel, held)
  }

  #release(channel: string, held: HeldFrames): void {
    if (this.#held.get(channel) !== held) return
    this.#held.delete(channel)
    if (held.frames.length === 0) return
    this.#deliver(channel, held.frames)
    this.#hold(channel)
  }

  #deliver(channel: string, frames: readonly Buffer[]): void {
    for (const subscriber of this.#options.subscribersOf(channel)) {
      for (const frame of frames) subscriber.send(frame)
    }
    const fannedOut = this.#options.fannedOut
    if (fannedOut !== undefined) for (const frame of frames) fannedOut(channel, frame)
  }
}
