import { PROTOCOL_VERSION, type ServerFrame } from '@parley/protocol'

export type Frame = ServerFrame
export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>

export interface Closed {
  code: number
  reason: string
}

const DEFAULT_TIMEOUT_MS = 5_000

/**
 * The frame-level API `TestClient` (WebSocket) and `PollingTestClient` (`/poll/*`) share. It records every
 * frame the gateway sends, so tests can wait for a frame or the close (with a timeout) instead of sleeping.
 * A subclass only moves frames: it implements `send` and `close`, hands what arrives to `receive`, and calls
 * `end` once the connection is gone.
 */
export abstract class RecordingClient {
  readonly frames: Frame[] = []
  /** When each frame of `frames` arrived (`performance.now()`), for timing assertions. */
  readonly arrivals = new Map<Frame, number>()
  readonly closed: Promise<Closed>
  readonly #waiters = new Set<() => void>()
  readonly #listeners = new Set<(frame: Frame) => void>()
  #resolveClosed!: (closed: Closed) => void
  #ended = false
  #nextId = 0
  readonly #noun: string

  /** `noun` names the connection in error messages ("socket", "session"). */
  protected constructor(noun: string) {
    this.#noun = noun
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
  }

  /** Sends one frame as JSON text. */
  abstract send(frame: object): void

  abstract close(): void

  /** Whether the connection is gone (`end` was called, or the transport reports it closed). */
  protected get ended(): boolean {
    return this.#ended || this.transportClosed()
  }

  /** A transport can report the close before its close event reaches `end`. */
  protected transportClosed(): boolean {
    return false
  }

  /** Records frames that arrived together and wakes the waiters. */
  protected receive(frames: readonly Frame[], at = performance.now()): void {
    for (const frame of frames) {
      this.frames.push(frame)
      this.arrivals.set(frame, at)
    }
    for (const frame of frames) for (const listener of this.#listeners) listener(frame)
    if (frames.length > 0) this.#wake()
  }

  /** Marks the connection gone (once): resolves `closed` and fails the waits still pending. */
  protected end(closed: Closed): void {
    if (this.#ended) return
    this.#ended = true
    this.#resolveClosed(closed)
    this.#wake()
  }

  #wake(): void {
    for (const wake of this.#waiters) wake()
  }

  /** Calls `listener` with every frame from now on (to answer as an agent would); returns the remover. */
  onFrame(listener: (frame: Frame) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  hello(options: { clientId?: string; token?: string; protocol?: { min: number; max: number } } = {}) {
    const id = this.newId()
    this.send({
      type: 'hello',
      id,
      protocol: options.protocol ?? { min: 1, max: PROTOCOL_VERSION },
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      ...(options.token === undefined ? {} : { auth: { token: options.token } }),
    })
    return this.waitFor(
      (frame): frame is FrameOf<'welcome'> | FrameOf<'error'> =>
        (frame.type === 'welcome' || frame.type === 'error') && frame.id === id,
    )
  }

  newId(): string {
    this.#nextId += 1
    return `r${this.#nextId}`
  }

  /** Sends a request and resolves with its `reply` or `error` (matched by id). */
  async request(frame: Record<string, unknown>): Promise<FrameOf<'reply'> | FrameOf<'error'>> {
    const id = this.newId()
    this.send({ ...frame, id })
    return this.waitFor(
      (candidate): candidate is FrameOf<'reply'> | FrameOf<'error'> =>
        (candidate.type === 'reply' || candidate.type === 'error') && candidate.id === id,
    )
  }

  async subscribe(channel: string): Promise<void> {
    const answer = await this.request({ type: 'subscribe', channel })
    if (answer.type !== 'reply') throw new Error(`subscribe failed: ${answer.message}`)
  }

  /** Sends a request and returns its `reply` result, failing when it is answered with an error. */
  async ok(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.request(frame)
    if (answer.type !== 'reply') throw new Error(`${String(frame.type)} failed: ${JSON.stringify(answer)}`)
    return answer.result
  }

  /** Resolves with the first recorded frame (past or future) that matches; rejects on timeout or close. */
  waitFor<T extends Frame>(match: (frame: Frame) => frame is T, timeoutMs?: number): Promise<T>
  waitFor(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  waitFor(match: (frame: Frame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.#wait<Frame>(
      (done) => {
        const found = this.frames.find(match)
        if (found !== undefined) done(found)
      },
      timeoutMs,
      'the expected frame arrived',
      () => `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`,
    )
  }

  /**
   * Resolves once `condition` holds, re-checking on every frame; rejects on timeout or close. For waits
   * over many frames, where scanning the whole list on each frame would be quadratic.
   */
  waitUntil(condition: () => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'the condition'): Promise<void> {
    return this.#wait<void>(
      (done) => {
        if (condition()) done()
      },
      timeoutMs,
      `${what} held`,
      () => `${what} did not hold within ${timeoutMs} ms (${this.frames.length} frames)`,
    )
  }

  /**
   * Runs `probe` now and on every wake until it calls `done`; rejects when the connection ends first
   * ("<noun> closed before <before>") or after `timeoutMs` (with `timeoutMessage()`).
   */
  #wait<T>(
    probe: (done: (value: T) => void) => void,
    timeoutMs: number,
    before: string,
    timeoutMessage: () => string,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      let settled = false
      const done = (value: T) => {
        finish()
        resolve(value)
      }
      const check = () => {
        probe(done)
        if (!settled && this.ended) {
          finish()
          reject(new Error(`${this.#noun} closed before ${before}`))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(timeoutMessage()))
      }, timeoutMs)
      const finish = () => {
        settled = true
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
  }

  /** Frames of one type received so far. */
  framesOf<T extends Frame['type']>(type: T): FrameOf<T>[] {
    return this.frames.filter((frame): frame is FrameOf<T> => frame.type === type)
  }

  /** Waits for a frame of the given type. */
  next<T extends Frame['type']>(type: T, timeoutMs?: number): Promise<FrameOf<T>> {
    return this.waitFor((frame): frame is FrameOf<T> => frame.type === type, timeoutMs)
  }

  /** Resolves with the close code and reason, or rejects after the timeout. */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Closed> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.#noun} still open after ${timeoutMs} ms`)),
        timeoutMs,
      )
      void this.closed.then((closed) => {
        clearTimeout(timer)
        resolve(closed)
      })
    })
  }
}
