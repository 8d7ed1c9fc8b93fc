import { type FetchLike, PollingSocket } from './polling-socket.js'
import type { WebSocketConstructor, WebSocketLike } from './websocket.js'

export type TransportName = 'websocket' | 'polling'

export interface TransportChange {
  /** `undefined` on the first connection attempt. */
  from: TransportName | undefined
  to: TransportName
}

export interface TransportSelectorOptions {
  fallbackToPolling: boolean
  /** How often to try WebSocket again while on polling. */
  probeIntervalMs: number
  /** How long a probe may take to open. */
  probeTimeoutMs: number
  fetch: FetchLike | undefined
  /** The transport of the connection attempts changed. */
  onChange: (change: TransportChange) => void
  /** A probe opened a WebSocket: the client may move back to it. */
  onWebSocketAvailable: () => void
}

/**
 * The first WebSocket probe after a fallback runs this soon (or at the probe interval if that is shorter). A
 * WebSocket attempt also fails when the gateway is down (a restart): those clients alternate transports, and
 * whichever attempt comes once it is back wins, so about half of them land on polling although WebSocket
 * works. Found by the storm bench: without it they stayed on polling for a whole probe interval (30 s) and
 * rode out a later network cut on polling. Where WebSocket is really blocked this costs one early probe.
 */
export const FIRST_PROBE_AFTER_MS = 1_000

interface Attempt {
  socket: WebSocketLike
  transport: TransportName
  opened: boolean
}

/**
 * Which transport each connection attempt uses. WebSocket first; an attempt that cannot open a WebSocket
 * (refused upgrade, a proxy in the way, no answer) makes the next one use HTTP long-polling. While on
 * polling a WebSocket is tried now and then, and once one opens the client is told it can move back.
 */
export class TransportSelector {
  #current: TransportName | undefined
  #preferred: TransportName = 'websocket'
  #attempt: Attempt | undefined
  #probeTimer: ReturnType<typeof setTimeout> | undefined
  #probe: WebSocketLike | undefined
  readonly #options: TransportSelectorOptions

  constructor(options: TransportSelectorOptions) {
    this.#options = options
  }

  get current(): TransportName | undefined {
    return this.#current
  }

  /** Creates the socket of the next connection attempt. */
  create(url: string, WebSocketImpl: WebSocketConstructor): WebSocketLike {
    const transport = this.#preferred
    const socket =
      transport === 'polling'
        ? new PollingSocket(url, this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch })
        : new WebSocketImpl(url)
    this.#attempt = { socket, transport, opened: false }
    if (this.#current !== transport) {
      const from = this.#current
      this.#current = transport
      this.#options.onChange({ from, to: transport })
    }
    return socket
  }

  opened(socket: WebSocketLike): void {
    if (this.#attempt?.socket === socket) this.#attempt.opened = true
  }

  /**
   * The attempt's socket is gone: one that never opened sends the next attempt to the other transport. True
   * when that next attempt is the polling check of a WebSocket attempt that just failed: it belongs to the same
   * attempt and should go at once, without backoff. WebSocket and polling are then tried moments apart, so
   * polling is chosen only when it works while WebSocket does not (WebSocket blocked on the way), not because
   * the gateway came back during a backoff delay between the two: after a restart that left about half the
   * clients on polling, and the long-polls of thousands of them overloaded the gateway coming back (found by
   * the storm bench).
   */
  lost(socket: WebSocketLike | undefined): boolean {
    this.#stopProbing()
    const attempt = this.#attempt
    if (attempt === undefined || attempt.socket !== socket) return false
    this.#attempt = undefined
    if (attempt.opened || !this.#options.fallbackToPolling) return false
    // Neither works: alternate, so whichever comes back first is found.
    this.#preferred = attempt.transport === 'websocket' ? 'polling' : 'websocket'
    return this.#preferred === 'polling'
  }

  /** The attempt was welcomed: on polling, start probing for WebSocket. */
  welcomed(url: string, WebSocketImpl: WebSocketConstructor): void {
    if (this.#current !== 'polling') return
    this.#stopProbing()
    this.#scheduleProbe(url, WebSocketImpl, Math.min(FIRST_PROBE_AFTER_MS, this.#options.probeIntervalMs))
  }

  stop(): void {
    this.#stopProbing()
  }

  #scheduleProbe(
    url: string,
    WebSocketImpl: WebSocketConstructor,
    delayMs = this.#options.probeIntervalMs,
  ): void {
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined
      this.#runProbe(url, WebSocketImpl)
    }, delayMs)
  }

  #runProbe(url: string, WebSocketImpl: WebSocketConstructor): void {
    let probe: WebSocketLike
    try {
      probe = new WebSocketImpl(url)
    } catch {
      this.#scheduleProbe(url, WebSocketImpl)
      return
    }
    this.#probe = probe
    const timeout = setTimeout(() => failed(), this.#options.probeTimeoutMs)
    const settle = () => {
      clearTimeout(timeout)
      probe.onopen = null
      probe.onclose = null
      probe.onerror = () => {}
      if (this.#probe === probe) this.#probe = undefined
    }
    const failed = () => {
      if (this.#probe !== probe) return
      settle()
      closeQuietly(probe)
      this.#scheduleProbe(url, WebSocketImpl)
    }
    probe.onopen = () => {
      if (this.#probe !== probe) return
      settle()
      closeQuietly(probe)
      this.#preferred = 'websocket'
      this.#options.onWebSocketAvailable()
    }
    probe.onclose = failed
    probe.onerror = failed
  }

  #stopProbing(): void {
    clearTimeout(this.#probeTimer)
    this.#probeTimer = undefined
    const probe = this.#probe
    this.#probe = undefined
    if (probe !== undefined) {
      probe.onopen = null
      probe.onclose = null
      probe.onerror = () => {}
      closeQuietly(probe)
    }
  }
}

function closeQuietly(socket: WebSocketLike): void {
  try {
    socket.close(1000, 'probe')
  } catch {
    // A socket still connecting may refuse; it is dropped either way.
  }
  const withTerminate = socket as WebSocketLike & { terminate?: () => void }
  if (socket.readyState !== 1 && typeof withTerminate.terminate === 'function') {
    try {
      withTerminate.terminate()
    } catch {
      // Already gone.
    }
  }
}
