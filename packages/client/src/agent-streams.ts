import {
  A2A_CALL_ENDING_STATES,
  type A2aAgentTaskState,
  type A2aArtifactInput,
  type AgentFailure,
  type ClientFrame,
  ERROR_CODES,
  type ErrorCode,
  type StreamChunkFrame,
  type StreamOpenResult,
} from '@parley/protocol'
import { a2aArtifact, a2aStatus } from './a2a-task.js'
import { AbortedError, FlowControlError, ParleyError } from './errors.js'

/** Sends a frame on the current connection; false when there is none. */
export type FrameSender = (frame: ClientFrame) => boolean

/** Default credit a caller grants a stream (the gateway caps it at `agents.streamWindow`, default 64). */
export const DEFAULT_STREAM_CREDIT = 16

/** The error a `stream_error` frame stands for: the protocol's class for protocol codes, else an `AgentError`. */
export function streamFailure(error: AgentFailure): ParleyError {
  const code = error.code in ERROR_CODES ? (error.code as ErrorCode) : undefined
  if (code !== undefined && code !== 'agent_error') {
    return ParleyError.fromBody({ code, message: error.message, retryable: ERROR_CODES[code].retryable })
  }
  return ParleyError.fromBody({
    code: 'agent_error',
    message: error.message,
    retryable: false,
    details: { code: error.code, message: error.message },
  })
}

/**
 * The caller's side of a stream: an async iterable of the agent's chunks. Credit flow control: at most
 * `credit` chunks are granted at any time (buffered here or on their way); once the reader has taken half of
 * them the SDK grants what was taken, so a slow reader never has more than the window buffered.
 */
export class AgentStream<T = unknown> implements AsyncIterable<T> {
  /** Resolves with the gateway's answer to `stream_open` (which instance serves the stream). */
  readonly opened: Promise<StreamOpenResult>
  private id: string | undefined
  private readonly buffer: unknown[] = []
  private readonly window: number
  /** Chunks granted and not yet received. */
  private outstanding: number
  /** Chunks the reader took since the last grant. */
  private taken = 0
  private lastSeq = 0
  private ended = false
  private failure: ParleyError | undefined
  private finished = false
  private endTrailer: unknown
  private waiter: (() => void) | undefined
  private abortRequested: string | undefined

  constructor(
    private readonly sendFrame: FrameSender,
    credit: number,
    open: (stream: AgentStream<T>) => Promise<StreamOpenResult>,
    private readonly onFinished: (stream: AgentStream<T>) => void,
  ) {
    this.window = credit
    this.outstanding = credit
    this.opened = open(this)
    this.opened.then(
      () => {
        // An abort asked for before the stream had an id goes out now.
        if (this.abortRequested !== undefined) this.sendAbort(this.abortRequested)
      },
      (error: unknown) => this.fail(error instanceof ParleyError ? error : new AbortedError(String(error))),
    )
  }

  /** The stream id (set once the gateway answered `stream_open`). */
  get streamId(): string | undefined {
    return this.id
  }

  /** The agent's trailer (`stream_end` data), once the stream ended normally. */
  get trailer(): unknown {
    return this.endTrailer
  }

  /** True once the stream is over for this reader (ended and drained, failed or aborted). */
  get done(): boolean {
    return this.finished
  }

  /** Chunks received and not yet read. */
  get buffered(): number {
    return this.buffer.length
  }

  /** Called synchronously with the `stream_open` result, before any chunk of the stream is handled. */
  bind(streamId: string): void {
    this.id = streamId
  }

  /** Stops the stream: the agent gets `stream_abort`; a pending or later read throws `AbortedError`. */
  abort(reason = 'cancelled'): void {
    if (this.finished) return
    this.sendAbort(reason)
    this.fail(new AbortedError(reason, `stream aborted here: ${reason}`))
  }

  // ------------------------------------------------------------------ frames from the gateway

  handleChunk(frame: StreamChunkFrame): void {
    if (this.finished || this.ended) return
    if (frame.seq <= this.lastSeq) return
    if (this.outstanding <= 0) {
      const error = new FlowControlError({ message: `stream ${frame.streamId} sent beyond its credit` })
      this.sendFrame({
        type: 'stream_error',
        streamId: frame.streamId,
        error: { code: 'flow_control', message: error.message },
      })
      this.fail(error)
      return
    }
    this.lastSeq = frame.seq
    this.outstanding -= 1
    this.buffer.push(frame.data)
    this.wake()
  }

  handleEnd(data: unknown): void {
    if (this.finished || this.ended) return
    this.ended = true
    this.endTrailer = data
    // The opener sends no chunks: its direction ends with the agent's, so the stream is over for the gateway.
    if (this.id !== undefined) this.sendFrame({ type: 'stream_end', streamId: this.id })
    this.wake()
  }

  handleError(error: AgentFailure): void {
    this.fail(streamFailure(error))
  }

  handleAbort(reason: string | undefined): void {
    const why = reason ?? 'aborted'
    this.fail(new AbortedError(why, `the stream was aborted by the other side: ${why}`))
  }

  /** The connection went away: the stream cannot go on. */
  handleConnectionLost(reason: string): void {
    this.fail(new AbortedError('connection_lost', `stream ended: ${reason}`))
  }

  // ------------------------------------------------------------------ reading

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        // Leaving a for-await early (break, throw) gives the stream up.
        if (!this.finished && !this.ended) this.abort('cancelled')
        this.finish()
        return { done: true, value: undefined }
      },
    }
  }

  private async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.buffer.length > 0) {
        const value = this.buffer.shift() as T
        this.taken += 1
        this.grant()
        return { done: false, value }
      }
      if (this.failure !== undefined) throw this.failure
      if (this.ended) {
        this.finish()
        return { done: true, value: undefined }
      }
      // Nothing left to read: hand back what was read even below half the window. The gateway may have cut
      // the credit to its `streamWindow`, so the chunks this reader waits for might never come otherwise.
      this.grant(true)
      await new Promise<void>((resolve) => {
        this.waiter = resolve
      })
    }
  }

  private grant(starved = false): void {
    if (this.ended || this.failure !== undefined || this.id === undefined || this.taken === 0) return
    if (!starved && this.taken < Math.ceil(this.window / 2)) return
    const credit = this.taken
    if (this.sendFrame({ type: 'stream_credit', streamId: this.id, credit })) {
      this.outstanding += credit
      this.taken = 0
    }
  }

  private sendAbort(reason: string): void {
    if (this.id === undefined) {
      this.abortRequested = reason
      return
    }
    this.sendFrame({ type: 'stream_abort', streamId: this.id, reason })
  }

  private fail(error: ParleyError): void {
    if (this.finished || this.failure !== undefined) return
    this.failure = error
    this.finish()
    this.wake()
  }

  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.onFinished(this)
  }

  private wake(): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.()
  }
}

/**
 * The agent's side of a stream: `write` sends one chunk once the caller has granted credit for it (so it
 * waits while the caller reads slowly), `end` and `error` finish it, `signal` fires when the caller aborted
 * or either side disconnected.
 */
export class StreamSink {
  private readonly controller = new AbortController()
  private credit: number
  private seq = 0
  private done = false
  private readonly creditWaiters: Array<{ resolve(): void; reject(error: ParleyError): void }> = []
  private abortError: ParleyError | undefined

  constructor(
    readonly streamId: string,
    credit: number,
    private readonly sendFrame: FrameSender,
    private readonly onFinished: () => void,
  ) {
    this.credit = credit
  }

  /** Fires when the caller aborted the stream or the connection went away. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** True once the stream ended, failed or was aborted: writes are refused. */
  get closed(): boolean {
    return this.done
  }

  /** Credit left: how many chunks may be written before `write` waits. */
  get available(): number {
    return this.credit
  }

  /** Sends one chunk, waiting for credit first. Rejects with `AbortedError` once the stream is over. */
  async write(data: unknown): Promise<void> {
    if (data === undefined) throw new ParleyError({ code: 'bad_request', message: 'a chunk needs data' })
    while (this.credit <= 0) {
      this.checkOpen()
      await new Promise<void>((resolve, reject) => this.creditWaiters.push({ resolve, reject }))
    }
    this.checkOpen()
    this.credit -= 1
    this.seq += 1
    if (!this.sendFrame({ type: 'stream_chunk', streamId: this.streamId, seq: this.seq, data })) {
      this.handleAbort('connection_lost')
      this.checkOpen()
    }
  }

  /**
   * A2A's task model (for A2A callers through the gateway's A2A face; see docs/a2a.md): sends the chunk
   * `{ a2a: { status: { state, message } } }`. `input-required`, `auth-required`, `completed` and `failed`
   * end the stream too (the task waits for its caller or is over); `working` does not.
   */
  async taskStatus(state: A2aAgentTaskState, message?: string): Promise<void> {
    await this.write(a2aStatus(state, message))
    if (A2A_CALL_ENDING_STATES.includes(state)) this.end()
  }

  /** A2A's task model: sends the chunk `{ a2a: { artifact } }`, an artifact update of the task. */
  async taskArtifact(artifact: A2aArtifactInput): Promise<void> {
    await this.write(a2aArtifact(artifact))
  }

  /** Ends the stream normally, with an optional trailer. */
  end(trailer?: unknown): void {
    if (this.done) return
    this.sendFrame(
      trailer === undefined
        ? { type: 'stream_end', streamId: this.streamId }
        : { type: 'stream_end', streamId: this.streamId, data: trailer },
    )
    this.close(new AbortedError('ended', 'the stream already ended'))
  }

  /** Fails the stream: the caller's iterator throws an `AgentError` with this code. */
  error(code: string, message: string): void {
    if (this.done) return
    this.sendFrame({
      type: 'stream_error',
      streamId: this.streamId,
      error: { code: code.slice(0, 64) || 'handler_error', message: message.slice(0, 2_000) },
    })
    this.close(new AbortedError('failed', 'the stream already failed'))
  }

  /**
   * Gives the stream up from the agent's side (`stream_abort`): the caller's iterator throws `AbortedError`
   * with this reason, and `signal` fires here too so the rest of the handler's work can stop.
   */
  abort(reason = 'cancelled'): void {
    if (this.done) return
    this.sendFrame({ type: 'stream_abort', streamId: this.streamId, reason: reason.slice(0, 500) })
    this.handleAbort(reason)
  }

  addCredit(credit: number): void {
    this.credit += credit
    for (const waiter of this.creditWaiters.splice(0)) waiter.resolve()
  }

  /** The caller aborted (or the connection went away): stop writing. */
  handleAbort(reason: string): void {
    if (this.done) return
    this.close(new AbortedError(reason, `the stream was aborted: ${reason}`))
    this.controller.abort(this.abortError)
  }

  private close(error: ParleyError): void {
    this.done = true
    this.abortError = error
    for (const waiter of this.creditWaiters.splice(0)) waiter.reject(error)
    this.onFinished()
  }

  private checkOpen(): void {
    if (this.abortError !== undefined) throw this.abortError
  }
}
