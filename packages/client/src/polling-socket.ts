import type { CloseEventLike, MessageEventLike, WebSocketLike } from './websocket.js'

type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']
export type FetchLike = typeof fetch

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3
/** The close code of a connection that ended without a close from the gateway (as a WebSocket reports it). */
const ABNORMAL_CLOSURE = 1006
const MESSAGE_TOO_BIG = 1009
/** Most frame text per `/poll/send`, well under the gateway's body limit (4 x maxPayload). */
const MAX_SEND_BATCH_BYTES = 64 * 1024
const MAX_SEND_BATCH_FRAMES = 100

export interface PollingSocketOptions {
  /** `fetch` implementation; defaults to the global one (browsers, Node 18+). */
  fetch?: FetchLike
  /** First pause before repeating a failed `recv`; it doubles up to 1 s. Default 50. */
  retryDelayMs?: number
  /** How long `recv` may keep failing before the connection counts as lost. Default 15 000. */
  giveUpAfterMs?: number
}

/**
 * The given `fetch`, or the global one, as a plain function. A browser's `fetch` must be called on the window:
 * called as a method of anything else (`this.#fetch(…)`) it throws "Illegal invocation".
 */
function plainFetch(fetchImpl: FetchLike | undefined): FetchLike {
  if (fetchImpl !== undefined) return (input, init) => fetchImpl(input, init)
  const globalFetch = (globalThis as { fetch?: FetchLike }).fetch
  if (globalFetch === undefined) throw new Error('no fetch implementation available for polling')
  return globalFetch.bind(globalThis)
}

/**
 * `ws(s)://host/ws` → `http(s)://host/poll`: the polling endpoints sit beside the WebSocket one. A URL whose
 * path does not end in `/ws` gets `/poll` appended.
 */
export function pollingBaseUrl(webSocketUrl: string): string {
  const url = new URL(webSocketUrl)
  if (url.protocol === 'ws:') url.protocol = 'http:'
  else if (url.protocol === 'wss:') url.protocol = 'https:'
  const path = url.pathname.replace(/\/+$/, '')
  url.pathname = path.endsWith('/ws') ? `${path.slice(0, -3)}/poll` : `${path}/poll`
  url.search = ''
  url.hash = ''
  return url.toString().replace(/\/$/, '')
}

/**
 * The WebSocket API over HTTP long-polling (`POST /poll/*`), so the client's protocol logic runs unchanged
 * on it. A `recv` that fails is repeated with the same `ack`: the gateway keeps frames until a later `recv`
 * acknowledges them, so an answer lost on the way costs nothing. The gateway's close arrives as `closed`
 * and becomes `onclose(code, reason)`.
 */
export class PollingSocket implements WebSocketLike {
  readyState = CONNECTING
  onopen: Handler<unknown> | null = null
  onmessage: Handler<MessageEventLike> | null = null
  onclose: Handler<CloseEventLike> | null = null
  onerror: Handler<unknown> | null = null

  readonly #base: string
  readonly #fetch: FetchLike
  readonly #retryDelayMs: number
  readonly #giveUpAfterMs: number
  readonly #abort = new AbortController()
  #session: string | undefined
  #cursor = 0
  #outbox: string[] = []
  #sending = false
  #closeRequested: { code: number; reason: string } | undefined

  constructor(url: string, options: PollingSocketOptions = {}) {
    this.#base = pollingBaseUrl(url)
    this.#fetch = plainFetch(options.fetch)
    this.#retryDelayMs = options.retryDelayMs ?? 50
    this.#giveUpAfterMs = options.giveUpAfterMs ?? 15_000
    void this.#open()
  }

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error('the polling connection is not open')
    this.#outbox.push(data)
    if (!this.#sending) void this.#flush()
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return
    const wasOpen = this.readyState === OPEN
    this.readyState = CLOSING
    this.#closeRequested = { code, reason }
    this.#abort.abort()
    if (!wasOpen) return // #open finishes the close once it knows whether a session exists
    this.#endSession().finally(() => this.#finish(code, reason))
  }

  /** Drops the connection at once (the `ws` extension the client uses for peers that stopped answering). */
  terminate(): void {
    if (this.readyState === CLOSED) return
    this.#abort.abort()
    void this.#endSession()
    this.#finish(ABNORMAL_CLOSURE, 'terminated')
  }

  async #open(): Promise<void> {
    let session: string | undefined
    let failure = 'the gateway refused the poll session'
    try {
      const response = await this.#post('open', {}, this.#abort.signal)
      if (response.ok) {
        const body = (await response.json()) as { session?: unknown }
        if (typeof body.session === 'string') session = body.session
      } else {
        failure = `poll open answered HTTP ${response.status}`
      }
    } catch (error) {
      failure = `poll open failed: ${String(error)}`
    }
    this.#session = session
    if (this.#closeRequested !== undefined) {
      const { code, reason } = this.#closeRequested
      await this.#endSession()
      this.#finish(code, reason)
      return
    }
    if (session === undefined) {
      this.onerror?.({ type: 'error' })
      this.#finish(ABNORMAL_CLOSURE, failure)
      return
    }
    this.readyState = OPEN
    this.onopen?.({ type: 'open' })
    void this.#receive()
  }

  async #flush(): Promise<void> {
    this.#sending = true
    try {
      while (this.#outbox.length > 0 && this.readyState === OPEN) {
        const batch = this.#takeBatch()
        let response: Response
        try {
          response = await this.#post('send', { session: this.#session, frames: batch }, this.#abort.signal)
          await response.body?.cancel()
        } catch {
          // Unlike a `recv`, a `send` cannot be repeated safely: its frames may have been handled.
          this.#lose(ABNORMAL_CLOSURE, 'a poll send failed')
          return
        }
        if (response.status === 413) {
          this.#lose(MESSAGE_TOO_BIG, 'frame too big for the gateway')
          return
        }
        if (!response.ok) {
          this.#lose(ABNORMAL_CLOSURE, `poll send answered HTTP ${response.status}`)
          return
        }
      }
    } finally {
      this.#sending = false
    }
  }

  #takeBatch(): string[] {
    const batch: string[] = []
    let bytes = 0
    while (this.#outbox.length > 0 && batch.length < MAX_SEND_BATCH_FRAMES) {
      const next = this.#outbox[0] as string
      if (batch.length > 0 && bytes + next.length > MAX_SEND_BATCH_BYTES) break
      batch.push(next)
      bytes += next.length
      this.#outbox.shift()
    }
    return batch
  }

  async #receive(): Promise<void> {
    let failingSince: number | undefined
    let delayMs = this.#retryDelayMs
    while (this.readyState === OPEN) {
      let answer: { cursor: number; frames: unknown[]; closed?: { code: number; reason: string } }
      try {
        const response = await this.#post(
          'recv',
          { session: this.#session, ack: this.#cursor },
          this.#abort.signal,
        )
        if (response.status === 404) {
          this.#lose(ABNORMAL_CLOSURE, 'the poll session is gone')
          return
        }
        if (!response.ok) throw new Error(`poll recv answered HTTP ${response.status}`)
        answer = (await response.json()) as typeof answer
      } catch (error) {
        if (this.readyState !== OPEN) return
        // Lost on the way: the same `ack` brings the same frames again.
        failingSince ??= Date.now()
        if (Date.now() - failingSince > this.#giveUpAfterMs) {
          this.#lose(ABNORMAL_CLOSURE, `the gateway stopped answering polls: ${String(error)}`)
          return
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs))
        delayMs = Math.min(delayMs * 2, 1_000)
        continue
      }
      failingSince = undefined
      delayMs = this.#retryDelayMs
      this.#cursor = answer.cursor
      for (const frame of answer.frames) {
        if (this.readyState !== OPEN) return
        this.onmessage?.({ data: JSON.stringify(frame) })
      }
      if (answer.closed !== undefined && this.readyState === OPEN) {
        this.readyState = CLOSING
        // The answer to the gateway's close, as a WebSocket echoes a close frame.
        await this.#endSession()
        this.#finish(answer.closed.code, answer.closed.reason)
        return
      }
    }
  }

  /** The connection is gone without a close from the gateway. */
  #lose(code: number, reason: string): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSING
    this.#abort.abort()
    void this.#endSession()
    this.#finish(code, reason)
  }

  /** `/poll/close`, best effort and once. */
  async #endSession(): Promise<void> {
    const session = this.#session
    if (session === undefined) return
    this.#session = undefined
    try {
      const response = await this.#post('close', { session })
      await response.body?.cancel()
    } catch {
      // The session ends on the gateway anyway once it stops being polled.
    }
  }

  #finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    this.onclose?.({ code, reason })
  }

  #post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return this.#fetch(`${this.#base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    })
  }
}
