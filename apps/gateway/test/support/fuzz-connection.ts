import { HttpError, PollOpenResponse, PollRecvResponse, ServerFrame } from '@parley/protocol'
import { WebSocket } from 'ws'
import type { GatewayUrls, TransportName } from './frame-client.js'

export interface FuzzClosed {
  code: number
  reason: string
}

/** What came back between two probes: every frame (raw, not trusted) and the close if there was one. */
export interface ProbeWindow {
  frames: unknown[]
  closed: FuzzClosed | undefined
  /** HTTP answers to `/poll/send` that were not 200 (polling only). */
  sendAnswers: Array<{ status: number; body: unknown }>
  /** What the gateway did in this window that the protocol does not allow. */
  violations: Violation[]
}

/** Something the gateway did that the protocol does not allow. */
export interface Violation {
  what: string
  detail: unknown
}

/** Generous: only a gateway that never answers (a hang) should reach it, not a busy machine. */
const PROBE_TIMEOUT_MS = 30_000

function emptyWindow(): ProbeWindow {
  return { frames: [], closed: undefined, sendAnswers: [], violations: [] }
}

/**
 * A deliberately dumb client for fuzzing: it sends any text (or bytes) as is, trusts nothing it receives,
 * and checks every answer against the protocol's schemas. `probe()` sends a ping with a fresh id and waits
 * for its answer (a pong, or an error in the handshake) or the close, which bounds the frames caused by
 * everything sent before it.
 */
export abstract class FuzzConnection {
  protected window: ProbeWindow = emptyWindow()
  #closed: FuzzClosed | undefined
  #probes = 0
  #wake: (() => void) | undefined

  static async open(transport: TransportName, urls: GatewayUrls): Promise<FuzzConnection> {
    return transport === 'websocket'
      ? await WebSocketFuzzConnection.openAt(urls.wsUrl)
      : await PollingFuzzConnection.openAt(urls.url)
  }

  get closed(): FuzzClosed | undefined {
    return this.#closed
  }

  /** Sends one text frame exactly as given. */
  abstract sendText(text: string): Promise<void>

  abstract close(): void

  /** Sends a ping and resolves what arrived since the last probe once its answer (or the close) is in. */
  async probe(): Promise<ProbeWindow> {
    this.#probes += 1
    const id = `probe-${this.#probes}`
    if (this.#closed === undefined) await this.sendText(JSON.stringify({ type: 'ping', id }))
    const deadline = Date.now() + PROBE_TIMEOUT_MS
    while (this.#closed === undefined && !this.window.frames.some((frame) => idOf(frame) === id)) {
      if (Date.now() > deadline) {
        this.violation({ what: 'no answer to a ping (hang)', detail: { id, window: this.window } })
        break
      }
      await this.#arrival()
    }
    const window = this.window
    this.window = emptyWindow()
    return window
  }

  /**
   * Waits (on arrivals, up to the hang bound) for a frame `match` accepts, without sending anything: for an
   * answer that comes later than a probe's (a `welcome` after a store lookup). The frame stays in the window.
   */
  async waitFor(match: (frame: unknown) => boolean): Promise<unknown> {
    const deadline = Date.now() + PROBE_TIMEOUT_MS
    for (;;) {
      const found = this.window.frames.find(match)
      if (found !== undefined || this.#closed !== undefined || Date.now() > deadline) return found
      await this.#arrival()
    }
  }

  /** Resolves on the next frame or close (or after a short while, so a deadline can be checked). */
  #arrival(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 250)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  protected violation(violation: Violation): void {
    this.window.violations.push(violation)
  }

  /** Records a frame after checking it against the server frame schemas. */
  protected received(raw: unknown): void {
    const parsed = ServerFrame.safeParse(raw)
    if (!parsed.success) this.violation({ what: 'frame outside the protocol', detail: raw })
    this.window.frames.push(raw)
    this.#wake?.()
  }

  protected ended(closed: FuzzClosed): void {
    if (this.#closed !== undefined) return
    this.#closed = closed
    this.window.closed = closed
    this.#wake?.()
  }
}

function idOf(frame: unknown): unknown {
  return typeof frame === 'object' && frame !== null ? (frame as { id?: unknown }).id : undefined
}

export class WebSocketFuzzConnection extends FuzzConnection {
  readonly #socket: WebSocket

  private constructor(socket: WebSocket) {
    super()
    this.#socket = socket
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.violation({ what: 'binary frame from the gateway', detail: data })
        return
      }
      try {
        this.received(JSON.parse(data.toString()))
      } catch {
        this.violation({ what: 'frame that is not JSON', detail: data.toString().slice(0, 200) })
      }
    })
    socket.on('close', (code, reason) => this.ended({ code, reason: reason.toString() }))
    // A refused or reset socket reports here first; the close follows.
    socket.on('error', () => undefined)
  }

  static async openAt(url: string): Promise<WebSocketFuzzConnection> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return new WebSocketFuzzConnection(socket)
  }

  async sendText(text: string): Promise<void> {
    if (this.#socket.readyState !== WebSocket.OPEN) return
    this.#socket.send(text)
  }

  /** Sends bytes as a binary frame, or as a text frame whatever they hold (invalid UTF-8 included). */
  sendBytes(bytes: Buffer, binary: boolean): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return
    this.#socket.send(bytes, { binary })
  }

  close(): void {
    this.#socket.close()
  }
}

export class PollingFuzzConnection extends FuzzConnection {
  readonly #base: string
  readonly #session: string
  /** Aborts the `recv` in flight; a fresh one per `recv` (listeners would pile up on a shared signal). */
  #recvAbort = new AbortController()
  #cursor = 0

  private constructor(base: string, session: string) {
    super()
    this.#base = base
    this.#session = session
    void this.#recvLoop()
  }

  static async openAt(url: string): Promise<PollingFuzzConnection> {
    const base = `${url.replace(/\/$/, '')}/poll`
    const response = await fetch(`${base}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    if (!response.ok) throw new Error(`poll open refused with HTTP ${response.status}`)
    return new PollingFuzzConnection(base, PollOpenResponse.parse(await response.json()).session)
  }

  #post(path: string, body: unknown, signal: AbortSignal | null = null): Promise<Response> {
    return fetch(`${this.#base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    })
  }

  async sendText(text: string): Promise<void> {
    await this.sendBatch([text])
  }

  /** Sends several frame texts in one `/poll/send`. */
  async sendBatch(texts: string[]): Promise<void> {
    if (this.closed !== undefined) return
    const response = await this.#post('send', { session: this.#session, frames: texts })
    if (response.status === 200) {
      await response.arrayBuffer()
      return
    }
    const body: unknown = await response.json().catch(() => undefined)
    this.window.sendAnswers.push({ status: response.status, body })
    if (response.status >= 500 || !HttpError.safeParse(body).success) {
      this.violation({ what: `poll send answered HTTP ${response.status}`, detail: body })
    }
  }

  async #recvLoop(): Promise<void> {
    while (this.closed === undefined) {
      let response: Response
      try {
        this.#recvAbort = new AbortController()
        response = await this.#post(
          'recv',
          { session: this.#session, ack: this.#cursor, waitMs: 5_000 },
          this.#recvAbort.signal,
        )
      } catch (error) {
        // Aborted by close(), or the gateway went away.
        this.ended({ code: 1006, reason: `poll recv failed: ${String((error as Error).cause ?? error)}` })
        return
      }
      const body: unknown = await response.json().catch(() => undefined)
      if (response.status === 404) {
        this.ended({ code: 1006, reason: 'poll session not found' })
        return
      }
      const answer = PollRecvResponse.safeParse(body)
      if (response.status !== 200 || !answer.success) {
        this.violation({ what: `poll recv answered HTTP ${response.status}`, detail: body })
        this.ended({ code: 1006, reason: 'poll recv failed' })
        return
      }
      this.#cursor = answer.data.cursor
      for (const frame of answer.data.frames) this.received(frame)
      if (answer.data.closed !== undefined) {
        this.ended(answer.data.closed)
        await this.#post('close', { session: this.#session }).catch(() => undefined)
        return
      }
    }
  }

  close(): void {
    if (this.closed === undefined) {
      void this.#post('close', { session: this.#session }).catch(() => undefined)
      this.ended({ code: 1000, reason: 'client closed' })
    }
    this.#recvAbort.abort()
  }
}
