import { SpanKind } from '@opentelemetry/api'
import {
  type A2aTaskRef,
  type AgentRegisterFrame,
  AgentRegisterResult,
  type Caller,
  type CapabilitySpec,
  type IntroductionFrame,
  pickTraceContext,
  type RequestIncomingFrame,
  type ServerFrame,
  type StreamIncomingFrame,
} from '@parley/protocol'
import {
  AgentCaller,
  type AgentCallerOptions,
  type AgentRegisterResultType,
  checkFrame,
} from './agent-caller.js'
import { StreamSink } from './agent-streams.js'
import { AbortedError, ParleyError } from './errors.js'
import { parseResult } from './input-checks.js'
import type { WelcomeInfo } from './push-client-types.js'
import { type HandlerSpan, inHandlerSpan, withIncomingContext } from './trace-context.js'

/** What an agent's handler knows about the request it answers. */
export interface RequestContext {
  /** The caller, as the gateway verified it. */
  from: Caller
  correlationId: string
  traceId: string
  /** Epoch ms after which the caller has been told `timeout`. */
  deadline: number
  /** 1 on the first instance tried, higher after an idempotent failover. */
  attempt: number
  idempotent: boolean
  /** The capability the caller asked for, when it routed by capability. */
  capability: string | undefined
  /** Agent requests before this one in its chain; pass this context as `{ context }` to calls made for it. */
  hops: number
  /** The A2A task the request runs as, when an A2A caller sent it (`continued`: it continues that task). */
  a2aTask: A2aTaskRef | undefined
  /** Fires when the deadline passed, the caller canceled (`request_cancel`) or the connection went away: the answer would be dropped. */
  signal: AbortSignal
  /**
   * W3C trace context of the handler's span (or of the gateway's, when no OpenTelemetry SDK records spans here);
   * calls given this context as `{ context }` continue the trace even without an OpenTelemetry context manager.
   */
  traceparent?: string
  tracestate?: string
}

/** What an agent's stream handler knows about the stream it serves. */
export interface StreamContext {
  from: Caller
  streamId: string
  traceId: string
  capability: string | undefined
  /** The A2A task the stream runs as, when an A2A caller sent it (`continued`: it continues that task). */
  a2aTask: A2aTaskRef | undefined
  /** W3C trace context of the handler's span (see `RequestContext.traceparent`). */
  traceparent?: string
  tracestate?: string
}

export type RequestHandler = (data: unknown, context: RequestContext) => unknown
export type StreamHandler = (data: unknown, sink: StreamSink, context: StreamContext) => unknown

/** An introduction request as an agent's `onIntroduction` handler gets it. */
export interface Introduction {
  handshakeId: string
  from: Caller
  reason: string | undefined
  traceId: string
  /** W3C trace context of the introducer, when it sent one. */
  traceparent?: string
  tracestate?: string
}

export type IntroductionDecision = boolean | { accept: boolean; reason?: string }
export type IntroductionHandler = (
  introduction: Introduction,
) => IntroductionDecision | Promise<IntroductionDecision>

export interface AgentClientOptions extends AgentCallerOptions {
  /** The agent's id; also the client id unless `clientId` is given. */
  agentId: string
  /**
   * What it can do: capability names, or names with a description (`{ name, description, inputSchema, … }`)
   * that A2A cards and MCP tool listings show; a JSON Schema given as `inputSchema` is checked by the gateway.
   */
  capabilities: CapabilitySpec[]
  metadata?: Record<string, unknown>
  /** How introductions are answered: `ask` (default: `onIntroduction`), or always `accept` / `reject`. */
  introductions?: 'ask' | 'accept' | 'reject'
}

// Keys of the per-capability handler maps for handlers of every capability.
const ANY_CAPABILITY = '\u0000any'

/**
 * An agent: a client that registers as an instance of `agentId` after every welcome and answers requests
 * (`handle`), streams (`handleStream`) and introductions (`onIntroduction`). Direct messages to the agent
 * arrive as `direct_message` events, acknowledged as for any client.
 */
export class AgentClient extends AgentCaller {
  readonly agentId: string
  private registration: AgentRegisterResultType | undefined
  private registrationError: ParleyError | undefined
  private readonly registerFrame: Omit<AgentRegisterFrame, 'id'>
  private readonly requestHandlers = new Map<string, RequestHandler>()
  private readonly streamHandlers = new Map<string, StreamHandler>()
  private introductionHandler: IntroductionHandler | undefined
  /** Requests being answered, by correlation id, with the timer that aborts them at their deadline. */
  private readonly inFlight = new Map<
    string,
    { controller: AbortController; deadlineTimer: ReturnType<typeof setTimeout> }
  >()
  private readonly servedStreams = new Map<string, StreamSink>()

  constructor(url: string, options: AgentClientOptions) {
    super(url, { ...options, clientId: options.clientId ?? options.agentId })
    this.agentId = options.agentId
    this.registerFrame = {
      type: 'agent_register',
      agentId: options.agentId,
      capabilities: options.capabilities,
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.introductions === undefined ? {} : { introductions: options.introductions }),
    }
    checkFrame(this.registerFrame)
  }

  /** The gateway's answer to the last registration (undefined before the first, or when it failed). */
  get registered(): AgentRegisterResultType | undefined {
    return this.registration
  }

  /**
   * Connects and registers. Rejects when the registration is refused (the connection stays up as a plain
   * client; close it or fix the cause). A reconnect registers again; a refusal then is an `error` event.
   */
  override async connect(): Promise<WelcomeInfo> {
    const info = await super.connect()
    if (this.registrationError !== undefined) throw this.registrationError
    return info
  }

  /**
   * Answers requests: `handle(fn)` for every capability, `handle(capability, fn)` for requests routed by that
   * capability. The handler's return value is the answer; a throw answers `error` with the thrown `code`
   * (default `handler_error`) and message.
   */
  handle(handler: RequestHandler): this
  handle(capability: string, handler: RequestHandler): this
  handle(capabilityOrHandler: string | RequestHandler, handler?: RequestHandler): this {
    if (typeof capabilityOrHandler === 'function')
      this.requestHandlers.set(ANY_CAPABILITY, capabilityOrHandler)
    else if (handler !== undefined) this.requestHandlers.set(capabilityOrHandler, handler)
    return this
  }

  /** Serves streams, like `handle` for requests: write chunks to the sink; returning ends the stream. */
  handleStream(handler: StreamHandler): this
  handleStream(capability: string, handler: StreamHandler): this
  handleStream(capabilityOrHandler: string | StreamHandler, handler?: StreamHandler): this {
    if (typeof capabilityOrHandler === 'function')
      this.streamHandlers.set(ANY_CAPABILITY, capabilityOrHandler)
    else if (handler !== undefined) this.streamHandlers.set(capabilityOrHandler, handler)
    return this
  }

  /** Decides introductions (with `introductions: 'ask'`); without a handler they are rejected. */
  onIntroduction(handler: IntroductionHandler): this {
    this.introductionHandler = handler
    return this
  }

  /** Stops being an agent instance; the connection stays open as a plain client (until the next reconnect). */
  async unregister(): Promise<void> {
    await this.call({ type: 'agent_unregister' })
    this.registration = undefined
  }

  // ------------------------------------------------------------------ hooks

  protected override async afterWelcome(info: WelcomeInfo): Promise<void> {
    await Promise.all([super.afterWelcome(info), this.register()])
  }

  private async register(): Promise<void> {
    try {
      const result = await this.call(this.registerFrame)
      this.registration = parseResult(AgentRegisterResult, result, 'agent_register')
      this.registrationError = undefined
      this.agentEmitter.emit('registered', this.registration)
    } catch (error) {
      const failure =
        error instanceof ParleyError
          ? error
          : new ParleyError({ code: 'internal', message: `registration failed: ${String(error)}` })
      this.registration = undefined
      this.registrationError = failure
      // The connection went again: the next welcome registers again.
      if (this.isWelcomed) this.reportError(failure)
    }
  }

  protected override handleExtraFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'request_incoming':
        void this.answerRequest(frame)
        return
      case 'stream_incoming':
        void this.serveStream(frame)
        return
      case 'request_cancel': {
        // The caller gave up: the handler's signal fires and its answer is not sent.
        const inFlight = this.inFlight.get(frame.correlationId)
        if (inFlight === undefined) return
        this.inFlight.delete(frame.correlationId)
        clearTimeout(inFlight.deadlineTimer)
        inFlight.controller.abort(new AbortedError('canceled', `the caller canceled: ${frame.reason}`))
        return
      }
      case 'introduction':
        void this.answerIntroduction(frame)
        return
      case 'stream_credit': {
        const sink = this.servedStreams.get(frame.streamId)
        if (sink !== undefined) sink.addCredit(frame.credit)
        else super.handleExtraFrame(frame)
        return
      }
      case 'stream_abort': {
        const sink = this.servedStreams.get(frame.streamId)
        if (sink !== undefined) sink.handleAbort(frame.reason ?? 'aborted')
        else super.handleExtraFrame(frame)
        return
      }
      case 'stream_error': {
        const sink = this.servedStreams.get(frame.streamId)
        if (sink !== undefined) sink.handleAbort(`${frame.error.code}: ${frame.error.message}`)
        else super.handleExtraFrame(frame)
        return
      }
      case 'stream_chunk':
      case 'stream_end':
        // Chunks from the opener to a served stream are not surfaced (yet).
        if (!this.servedStreams.has(frame.streamId)) super.handleExtraFrame(frame)
        return
      default:
        super.handleExtraFrame(frame)
    }
  }

  protected override connectionLost(reason: string): void {
    super.connectionLost(reason)
    for (const { controller, deadlineTimer } of this.inFlight.values()) {
      clearTimeout(deadlineTimer)
      controller.abort(new AbortedError('connection_lost', reason))
    }
    this.inFlight.clear()
    for (const sink of [...this.servedStreams.values()]) sink.handleAbort('connection_lost')
    this.servedStreams.clear()
  }

  private async answerRequest(frame: RequestIncomingFrame): Promise<void> {
    const controller = new AbortController()
    const untilDeadline = frame.deadline - Date.now()
    const deadlineTimer = setTimeout(
      () => controller.abort(new AbortedError('deadline', 'the request deadline passed')),
      Math.max(0, Math.min(untilDeadline, 2_147_483_647)),
    )
    const inFlight = { controller, deadlineTimer }
    this.inFlight.set(frame.correlationId, inFlight)
    const handler = this.handlerFor(this.requestHandlers, frame.capability)
    const context: RequestContext = {
      from: frame.from,
      correlationId: frame.correlationId,
      traceId: frame.traceId,
      deadline: frame.deadline,
      attempt: frame.attempt,
      idempotent: frame.idempotent,
      capability: frame.capability,
      hops: frame.hops ?? 0,
      a2aTask: frame.from.a2aTask,
      signal: controller.signal,
    }
    let answer: { data: unknown } | { error: { code: string; message: string } }
    if (handler === undefined) {
      answer = { error: { code: 'no_handler', message: `${this.agentId} has no request handler` } }
    } else {
      try {
        const data = await inHandlerSpan(
          frame,
          this.agentSpan(frame, 'request'),
          (trace) => handler(frame.data, Object.assign(context, trace)),
          { traceId: frame.traceId, hops: context.hops },
        )
        answer = { data: data === undefined ? null : data }
      } catch (error) {
        answer = { error: failureOf(error) }
      }
    }
    clearTimeout(deadlineTimer)
    // A connection lost meanwhile: the gateway has answered the caller already; the answer has nowhere to go.
    if (this.inFlight.get(frame.correlationId) !== inFlight) return
    this.inFlight.delete(frame.correlationId)
    // Past the deadline the gateway has answered the caller with a timeout: an answer would only be dropped.
    const reason: unknown = controller.signal.reason
    if (reason instanceof AbortedError && reason.reason === 'deadline') return
    this.sendFrame({ type: 'respond', correlationId: frame.correlationId, ...answer })
  }

  private async serveStream(frame: StreamIncomingFrame): Promise<void> {
    const { streamId } = frame
    const sink = new StreamSink(
      streamId,
      frame.credit,
      (out) => this.sendFrame(out),
      () => {
        if (this.servedStreams.get(streamId) === sink) this.servedStreams.delete(streamId)
      },
    )
    this.servedStreams.set(streamId, sink)
    const handler = this.handlerFor(this.streamHandlers, frame.capability)
    if (handler === undefined) {
      sink.error('no_handler', `${this.agentId} has no stream handler`)
      return
    }
    const context: StreamContext = {
      from: frame.from,
      streamId,
      traceId: frame.traceId,
      capability: frame.capability,
      a2aTask: frame.from.a2aTask,
    }
    try {
      await inHandlerSpan(frame, this.agentSpan(frame, 'stream'), (trace) =>
        handler(frame.data, sink, Object.assign(context, trace)),
      )
      sink.end()
    } catch (error) {
      // A write refused because the caller aborted needs no answer: the stream is over already.
      if (sink.closed) return
      const failure = failureOf(error)
      sink.error(failure.code, failure.message)
    }
  }

  private async answerIntroduction(frame: IntroductionFrame): Promise<void> {
    let decision: { accept: boolean; reason?: string }
    const handler = this.introductionHandler
    if (handler === undefined) decision = { accept: false, reason: 'no handler' }
    else {
      try {
        const outcome = await withIncomingContext(frame, () =>
          handler({
            handshakeId: frame.handshakeId,
            from: frame.from,
            reason: frame.reason,
            traceId: frame.traceId,
            ...pickTraceContext(frame),
          }),
        )
        decision = typeof outcome === 'boolean' ? { accept: outcome } : outcome
      } catch (error) {
        this.log(
          'warn',
          { handshakeId: frame.handshakeId, error: String(error) },
          'introduction handler failed',
        )
        decision = { accept: false, reason: 'handler failed' }
      }
    }
    this.sendFrame({
      type: 'introduction_answer',
      handshakeId: frame.handshakeId,
      accept: decision.accept,
      ...(decision.reason === undefined ? {} : { reason: decision.reason.slice(0, 500) }),
    })
  }

  /**
   * The span a handler runs in: `invoke_agent {agentId}` (kind SERVER), the agent's side of the gateway's
   * `invoke_agent` (kind CLIENT), after the OpenTelemetry GenAI agent conventions.
   */
  private agentSpan(
    frame: RequestIncomingFrame | StreamIncomingFrame,
    operation: 'request' | 'stream',
  ): HandlerSpan {
    return {
      name: `invoke_agent ${this.agentId}`,
      kind: SpanKind.SERVER,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.id': this.agentId,
        'gen_ai.agent.name': this.agentId,
        'parley.operation': operation,
        'parley.caller': frame.from.agentId ?? frame.from.clientId,
        ...(frame.capability === undefined ? {} : { 'parley.capability': frame.capability }),
      },
    }
  }

  private handlerFor<H>(handlers: Map<string, H>, capability: string | undefined): H | undefined {
    return (capability === undefined ? undefined : handlers.get(capability)) ?? handlers.get(ANY_CAPABILITY)
  }
}

/** What a failed handler answers: its `code` when it has a usable one, else `handler_error`. */
function failureOf(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  return {
    code: typeof code === 'string' && code.length > 0 ? code.slice(0, 64) : 'handler_error',
    message: message.slice(0, 2_000),
  }
}
