import type { PollRecvResponse } from '@parley/protocol'
import type { ConnectionSocket, OutboundFrame } from '../peers/connection.js'

interface NumberedFrame {
  seq: number
  text: string
  bytes: number
}

interface WaitingRecv {
  ack: number
  resolve: (response: PollRecvResponse) => void
  timer: NodeJS.Timeout
}

export interface PollSessionOptions {
  id: string
  maxBatchSize: number
  longPollTimeoutMs: number
  now: number
  /** The connection ended: called once, when the client has read the close (or it was cut). */
  onEnded: (session: PollSession, code: number) => void
}

/** How long a closed session whose client has read the close waits for its `/poll/close` answer. */
const CLOSE_GRACE_MS = 1_000

export class PollAckError extends Error {}

/**
 * One poll session: the connection socket of a client on HTTP long-polling. Frames the connection writes are
 * numbered from 1 and kept until a later `recv` acknowledges them, so a lost HTTP answer costs nothing.
 * A close is kept until the client has read every frame before it, like a WebSocket's closing handshake.
 */
export class PollSession implements ConnectionSocket {
  readonly transport = 'polling' as const
  readonly id: string
  /** Start or answer of the last `recv` (or the open): a client that stops polling is reaped. */
  lastPollAt: number
  #frames: NumberedFrame[] = []
  #lastSeq = 0
  #unackedBytes = 0
  #closing: { code: number; reason: string } | undefined
  #ended = false
  #waiting: WaitingRecv | undefined
  #endTimer: NodeJS.Timeout | undefined
  readonly #options: PollSessionOptions

  constructor(options: PollSessionOptions) {
    this.id = options.id
    this.#options = options
    this.lastPollAt = options.now
  }

  get isOpen(): boolean {
    return this.#closing === undefined
  }

  /** True once the hub has been told the connection is gone. */
  get ended(): boolean {
    return this.#ended
  }

  get bufferedBytes(): number {
    return this.#unackedBytes
  }

  get isPolling(): boolean {
    return this.#waiting !== undefined
  }

  sendBatch(frames: readonly OutboundFrame[]): void {
    if (this.#closing !== undefined) return
    for (const frame of frames) {
      const text = typeof frame === 'string' ? frame : frame.toString('utf8')
      const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length
      this.#lastSeq += 1
      this.#frames.push({ seq: this.#lastSeq, text, bytes })
      this.#unackedBytes += bytes
    }
    this.#wake()
  }

  close(code: number, reason: string): void {
    if (this.#closing !== undefined) return
    this.#closing = { code, reason }
    this.#wake()
  }

  /** Cut: the queued frames are dropped and the hub is told at once. */
  terminate(): void {
    this.#closing ??= { code: 1006, reason: 'terminated' }
    this.#frames = []
    this.#unackedBytes = 0
    this.#end(this.#closing.code)
    this.#wake()
  }

  /**
   * The client's `/poll/close`: the connection ends now, like a WebSocket closed by its peer. After the
   * gateway's own close it is the client's answer to it (the echo of a WebSocket closing handshake).
   */
  closeByClient(): void {
    this.#closing ??= { code: 1000, reason: 'client closed' }
    this.#end(this.#closing.code)
    this.#wake()
  }

  /**
   * Acknowledges frames up to `ack` and answers with the frames after it, waiting up to `waitMs` when there
   * are none. A second `recv` answers the first at once with no frames.
   */
  recv(ack: number, waitMs: number | undefined, now: number): Promise<PollRecvResponse> {
    if (ack > this.#lastSeq)
      throw new PollAckError(`ack ${ack} is beyond the last frame sent (${this.#lastSeq})`)
    this.lastPollAt = now
    this.#acknowledge(ack)
    const earlier = this.#waiting
    if (earlier !== undefined) {
      this.#waiting = undefined
      clearTimeout(earlier.timer)
      earlier.resolve({ cursor: earlier.ack, frames: [] })
    }
    const wait = Math.min(waitMs ?? this.#options.longPollTimeoutMs, this.#options.longPollTimeoutMs)
    if (this.#frames.length > 0 || this.#closing !== undefined || wait <= 0) {
      return Promise.resolve(this.#answer(ack))
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#waiting?.timer !== timer) return
        this.#waiting = undefined
        resolve(this.#answer(ack))
      }, wait)
      this.#waiting = { ack, resolve, timer }
    })
  }

  /** Answers a waiting `recv` (used when the session goes away). */
  release(): void {
    this.#wake()
  }

  #acknowledge(ack: number): void {
    let dropped = 0
    while (dropped < this.#frames.length && (this.#frames[dropped]?.seq ?? Infinity) <= ack) {
      this.#unackedBytes -= this.#frames[dropped]?.bytes ?? 0
      dropped += 1
    }
    if (dropped > 0) this.#frames.splice(0, dropped)
  }

  #answer(ack: number): PollRecvResponse {
    // The client was polling until now: silence counts from the end of its last poll.
    this.lastPollAt = Date.now()
    const batch = this.#frames.slice(0, this.#options.maxBatchSize)
    const last = batch.at(-1)
    const response: PollRecvResponse = {
      cursor: last?.seq ?? ack,
      frames: batch.map((frame) => JSON.parse(frame.text) as Record<string, unknown>),
    }
    if (this.#closing !== undefined && batch.length === this.#frames.length) {
      response.closed = { ...this.#closing }
      // Everything before the close has been handed out. The client answers with `/poll/close`; one that
      // does not is let go after a grace period, so this answer can still be written (and repeated).
      const code = this.#closing.code
      this.#endTimer ??= setTimeout(() => this.#end(code), CLOSE_GRACE_MS).unref()
    }
    return response
  }

  #wake(): void {
    const waiting = this.#waiting
    if (waiting === undefined) return
    this.#waiting = undefined
    clearTimeout(waiting.timer)
    // After the current turn, so a burst of frames written together goes out in one answer.
    setImmediate(() => waiting.resolve(this.#answer(waiting.ack)))
  }

  #end(code: number): void {
    clearTimeout(this.#endTimer)
    if (this.#ended) return
    this.#ended = true
    this.#options.onEnded(this, code)
  }
}
