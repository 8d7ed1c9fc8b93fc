import { PollOpenResponse, PollRecvResponse, ServerFrame } from '@parley/protocol'
import { type Closed, RecordingClient } from './recording-client.js'

/** Pause before repeating a `recv` whose answer was lost. */
const RECV_RETRY_MS = 10
const MAX_RECV_FAILURES_IN_A_ROW = 200

export interface PollingTestClientOptions {
  headers?: Record<string, string>
  /** `waitMs` of each `recv` (the gateway's long-poll timeout when absent). */
  waitMs?: number
}

/**
 * The polling twin of `TestClient`: the same frame-level API over `POST /poll/*`. It records every frame the
 * gateway sends, repeats a `recv` whose answer was lost with the same `ack` (and counts how often), and never
 * answers pings on its own.
 */
export class PollingTestClient extends RecordingClient {
  /** `recv` requests whose answer never arrived and were repeated. */
  lostRecvs = 0
  /** Why the last `recv` failed, for test diagnostics. */
  lastRecvError: unknown
  /** HTTP answers to `send` that were not 200, in order. */
  readonly sendFailures: Array<{ status: number; body: unknown }> = []
  readonly #base: string
  readonly #session: string
  readonly #options: PollingTestClientOptions
  readonly #abort = new AbortController()
  #paused = false
  #resume: (() => void) | undefined
  #cursor = 0
  #sending: Promise<void> = Promise.resolve()

  private constructor(base: string, session: string, options: PollingTestClientOptions) {
    super('session')
    this.#base = base
    this.#session = session
    this.#options = options
    void this.#recvLoop()
  }

  /** The `/poll` base of a gateway's `http(s)://host:port` URL. */
  static pollBase(url: string): string {
    return `${url.replace(/\/$/, '')}/poll`
  }

  /** Opens a poll session (no `hello` yet). Rejects when the gateway refuses it. */
  static async open(url: string, options: PollingTestClientOptions = {}): Promise<PollingTestClient> {
    const base = PollingTestClient.pollBase(url)
    const response = await fetch(`${base}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: '{}',
    })
    if (!response.ok) throw new Error(`poll open refused with HTTP ${response.status}`)
    const opened = PollOpenResponse.parse(await response.json())
    return new PollingTestClient(base, opened.session, options)
  }

  /** Uses a session opened elsewhere (on another node, say) through the gateway at `url`. */
  static attach(url: string, session: string, options: PollingTestClientOptions = {}): PollingTestClient {
    return new PollingTestClient(PollingTestClient.pollBase(url), session, options)
  }

  static async connect(
    url: string,
    hello: { clientId?: string; token?: string } = {},
    options: PollingTestClientOptions = {},
  ): Promise<PollingTestClient> {
    const client = await PollingTestClient.open(url, options)
    const welcome = await client.hello(hello)
    if (welcome.type !== 'welcome') throw new Error(`handshake failed: ${JSON.stringify(welcome)}`)
    return client
  }

  /** The session id (a secret: only for tests that use it on purpose). */
  get session(): string {
    return this.#session
  }

  get cursor(): number {
    return this.#cursor
  }

  send(frame: object): void {
    this.sendRaw(JSON.stringify(frame))
  }

  /** Sends frame texts in order (each `/poll/send` waits for the one before). */
  sendRaw(...frames: string[]): void {
    this.#sending = this.#sending.then(async () => {
      const response = await this.post('send', { session: this.#session, frames }).catch(() => undefined)
      if (response !== undefined && response.status !== 200) {
        this.sendFailures.push({ status: response.status, body: await response.json().catch(() => null) })
      }
    })
  }

  /** A raw `POST /poll/<path>` with this session's headers. */
  post(path: string, body: unknown, init: { signal?: AbortSignal } = {}): Promise<Response> {
    return fetch(`${this.#base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.#options.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    })
  }

  /** Stops polling (the client goes silent) until `resumePolling()`. */
  pausePolling(): void {
    this.#paused = true
  }

  resumePolling(): void {
    this.#paused = false
    this.#resume?.()
    this.#resume = undefined
  }

  /** Ends the session like a WebSocket close from the client. */
  close(): void {
    if (this.ended) return
    void this.post('close', { session: this.#session })
      .catch(() => undefined)
      .finally(() => this.#finish({ code: 1000, reason: 'client closed' }))
  }

  #finish(closed: Closed): void {
    if (this.ended) return
    this.end(closed)
    this.#abort.abort()
  }

  async #recvLoop(): Promise<void> {
    let failuresInARow = 0
    while (!this.ended) {
      if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve))
      let answer: PollRecvResponse
      try {
        const response = await this.post(
          'recv',
          {
            session: this.#session,
            ack: this.#cursor,
            ...(this.#options.waitMs === undefined ? {} : { waitMs: this.#options.waitMs }),
          },
          { signal: this.#abort.signal },
        )
        if (response.status === 404) {
          this.#finish({ code: 1006, reason: 'poll session not found' })
          return
        }
        if (!response.ok) throw new Error(`recv answered HTTP ${response.status}: ${await response.text()}`)
        answer = PollRecvResponse.parse(await response.json())
      } catch (error) {
        this.lastRecvError = error
        if (this.ended) return
        // The answer was lost: the same `ack` gets the same frames again.
        this.lostRecvs += 1
        failuresInARow += 1
        if (failuresInARow > MAX_RECV_FAILURES_IN_A_ROW) {
          this.#finish({ code: 1006, reason: 'gateway unreachable' })
          return
        }
        await new Promise((resolve) => setTimeout(resolve, RECV_RETRY_MS))
        continue
      }
      failuresInARow = 0
      this.#cursor = answer.cursor
      this.receive(answer.frames.map((raw) => ServerFrame.parse(raw)))
      if (answer.closed !== undefined) {
        // The answer to the gateway's close, as a WebSocket echoes a close frame.
        await this.post('close', { session: this.#session }).catch(() => undefined)
        this.#finish(answer.closed)
        return
      }
    }
  }
}
