/** What the heartbeat needs to know about a connection. */
export interface HeartbeatTarget {
  readonly state: 'handshaking' | 'pairing' | 'open' | 'closing' | 'closed'
  readonly openedAt: number
  /** Start of the handshake timeout (the connect, or a later restart of the handshake). */
  readonly handshakeStartedAt: number
  readonly lastSeenAt: number
  lastPingAt: number
}

export interface HeartbeatOptions<T extends HeartbeatTarget> {
  intervalMs: number
  handshakeTimeoutMs: number
  targets: () => Iterable<T>
  /** Send a protocol-level ping. */
  ping: (target: T, now: number) => void
  /** Close a connection that never sent `hello`. */
  handshakeExpired: (target: T) => void
  /** Close a connection silent for more than twice the interval. */
  reap: (target: T) => void
  now?: () => number
}

export interface Heartbeat {
  start(): void
  stop(): void
  /** One sweep; exposed so tests can drive it without waiting. */
  tick(now: number): void
}

/**
 * One shared timer for every connection, instead of a timer per socket. It ticks at half the shorter of the
 * heartbeat interval and the handshake timeout, so each deadline is enforced within half a period.
 */
export function createHeartbeat<T extends HeartbeatTarget>(options: HeartbeatOptions<T>): Heartbeat {
  const now = options.now ?? Date.now
  const periodMs = Math.max(5, Math.min(options.intervalMs, options.handshakeTimeoutMs) / 2)
  let timer: NodeJS.Timeout | undefined

  function tick(at: number): void {
    for (const target of options.targets()) {
      if (target.state === 'handshaking') {
        if (at - target.handshakeStartedAt > options.handshakeTimeoutMs) options.handshakeExpired(target)
        continue
      }
      // A device waiting for pairing approval is kept alive like an open connection.
      if (target.state !== 'open' && target.state !== 'pairing') continue
      const silentMs = at - target.lastSeenAt
      if (silentMs > 2 * options.intervalMs) {
        options.reap(target)
      } else if (silentMs >= options.intervalMs && at - target.lastPingAt >= options.intervalMs) {
        target.lastPingAt = at
        options.ping(target, at)
      }
    }
  }

  return {
    start() {
      if (timer !== undefined) return
      // Each sweep runs after the frames already received are read (setImmediate comes after the poll phase):
      // after a long turn of this process (a herd, a stall of the host) its timers fire before its sockets
      // are read, and a sweep at that moment would reap a connection whose pong or hello is already here.
      timer = setInterval(
        () =>
          setImmediate(() => {
            if (timer !== undefined) tick(now())
          }),
        periodMs,
      )
      // The heartbeat alone must not keep the process alive.
      timer.unref()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
    tick,
  }
}
