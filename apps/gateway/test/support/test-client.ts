import type { ClientRequestArgs } from 'node:http'
import { PROTOCOL_VERSION, ServerFrame } from '@parley/protocol'
import { type ClientOptions, WebSocket } from 'ws'

type Frame = ServerFrame
type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>

const DEFAULT_TIMEOUT_MS = 5_000

export interface Closed {
  code: number
  reason: string
}

/**
 * A raw `ws` client that records every frame the gateway sends, so tests can wait for a frame or the close
 * (with a timeout) instead of sleeping. It never answers pings on its own.
 */
export type { Frame, FrameOf }

export class TestClient {
  readonly frames: Frame[] = []
  /** When each frame of `frames` arrived (`performance.now()`), for timing assertions. */
  readonly arrivals = new Map<Frame, number>()
  readonly closed: Promise<Closed>
  readonly #socket: WebSocket
  readonly #waiters = new Set<() => void>()
  #nextId = 0

  private constructor(socket: WebSocket) {
    this.#socket = socket
    socket.on('message', (data) => {
      const frame = ServerFrame.parse(JSON.parse(data.toString()))
      this.frames.push(frame)
      this.arrivals.set(frame, performance.now())
      for (const wake of this.#waiters) wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.#waiters) wake()
      })
    })
  }

  /** Opens the socket (no `hello` yet). */
  static async open(url: string, options: ClientOptions & ClientRequestArgs = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options)
    const client = new TestClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
      )
    })
    return client
  }

  /** Opens the socket and completes the handshake. */
  static async connect(
    url: string,
    hello: { clientId?: string; token?: string } = {},
    options: ClientOptions & ClientRequestArgs = {},
  ): Promise<TestClient> {
    const client = await TestClient.open(url, options)
    const welcome = await client.hello(hello)
    if (welcome.type !== 'welcome') throw new Error(`handshake failed: ${JSON.stringify(welcome)}`)
    return client
  }

  get readyState(): number {
    return this.#socket.readyState
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

  send(frame: object): void {
    this.#socket.send(JSON.stringify(frame))
  }

  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.#socket.send(data, { binary: options.binary ?? typeof data !== 'string' })
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

  /** Resolves with the first recorded frame (past or future) that matches; rejects on timeout or close. */
  waitFor<T extends Frame>(match: (frame: Frame) => frame is T, timeoutMs?: number): Promise<T>
  waitFor(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  waitFor(match: (frame: Frame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return new Promise((resolve, reject) => {
      let closedSocket = false
      const check = () => {
        const found = this.frames.find(match)
        if (found !== undefined) {
          finish()
          resolve(found)
        } else if (closedSocket || this.#socket.readyState === WebSocket.CLOSED) {
          finish()
          reject(new Error('socket closed before the expected frame arrived'))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`))
      }, timeoutMs)
      const finish = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      void this.closed.then(() => {
        closedSocket = true
      })
      this.#waiters.add(check)
      check()
    })
  }

  /**
   * Resolves once `condition` holds, re-checking on every frame; rejects on timeout or close. For waits
   * over many frames, where scanning the whole list on each frame would be quadratic.
   */
  waitUntil(condition: () => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'the condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          finish()
          resolve()
        } else if (this.#socket.readyState === WebSocket.CLOSED) {
          finish()
          reject(new Error(`socket closed before ${what} held`))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`${what} did not hold within ${timeoutMs} ms (${this.frames.length} frames)`))
      }, timeoutMs)
      const finish = () => {
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

  /** Sends a request and returns its `reply` result, failing when it is answered with an error. */
  async ok(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.request(frame)
    if (answer.type !== 'reply') throw new Error(`${String(frame.type)} failed: ${JSON.stringify(answer)}`)
    return answer.result
  }

  /** Waits for a frame of the given type. */
  next<T extends Frame['type']>(type: T, timeoutMs?: number): Promise<FrameOf<T>> {
    return this.waitFor((frame): frame is FrameOf<T> => frame.type === type, timeoutMs)
  }

  /** Resolves with the close code and reason, or rejects after the timeout. */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Closed> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs)
      void this.closed.then((closed) => {
        clearTimeout(timer)
        resolve(closed)
      })
    })
  }

  close(): void {
    this.#socket.close()
  }

  /** The underlying socket, for tests that need raw control. */
  get socket(): WebSocket {
    return this.#socket
  }
}
