import {
  type A2aTaskRef,
  type AgentRegisterFrame,
  AgentRegisterResult,
  AgentSendResult,
  type AgentSendResult as AgentSendResultType,
  type AgentSummary,
  AgentsListResult,
  type AgentTarget,
  type Caller,
  type CapabilitySpec,
  ClientFrame,
  type DirectTarget,
  describeIssues,
  type GrantPeer,
  IntroduceResult,
  type IntroduceResult as IntroduceResultType,
  type IntroductionFrame,
  mcpToolCapability,
  type RequestIncomingFrame,
  RequestResult,
  type RequestResult as RequestResultType,
  type ServerFrame,
  type Signal,
  SignalResult,
  type SignalResult as SignalResultType,
  type StreamIncomingFrame,
  StreamOpenResult,
} from '@parley/protocol'
import { SharedState } from './agent-state.js'
import { AgentStream, DEFAULT_STREAM_CREDIT, StreamSink } from './agent-streams.js'
import { AbortedError, ParleyError, RequestTimeoutError, reasonOf } from './errors.js'
import type { McpCallToolResult } from './mcp-tools.js'
import {
  type CallOptions,
  PushClient,
  type PushClientEvent,
  type PushClientEvents,
  type PushClientOptions,
  parseResult,
  type WelcomeInfo,
} from './push-client.js'
import { type Listener, TypedEmitter } from './typed-emitter.js'

/** A grant that now links this client with a peer (after an accepted introduction). */
export interface GrantEvent {
  grantId: string
  peer: GrantPeer
  timestamp: number
}

/** A relayed WebRTC-style signal from a peer. */
export interface SignalEvent {
  from: Caller
  signal: Signal
  traceId: string
  timestamp: number
}

export interface AgentCallerEvents extends PushClientEvents {
  /** An introduction was accepted: a grant now links this client and `peer` (both sides get it). */
  connected: GrantEvent
  /** The operator (or an agent) revoked a grant. */
  grant_revoked: GrantEvent
  /** A peer relayed a signal to this client. */
  signal: SignalEvent
}

export interface AgentClientEvents extends AgentCallerEvents {
  /** Registered as an agent instance: after the first welcome and again after every reconnect. */
  registered: AgentRegisterResultType
}

export type AgentRegisterResultType = AgentRegisterResult

export interface AgentRequestOptions {
  /** How long the gateway waits for the agent's answer. Default `agentRequestTimeoutMs` (30 000). */
  timeoutMs?: number
  /** Safe to run twice: the gateway tries another instance when the chosen one goes away. */
  idempotent?: boolean
  traceId?: string
  /** Gives up locally (rejects with `AbortedError`); the gateway still waits for the agent. */
  signal?: AbortSignal
}

export interface AgentStreamOptions {
  /** How many chunks may be buffered (granted at a time). Default 16; the gateway caps it. */
  credit?: number
  traceId?: string
  /** Aborts the stream (the agent gets `stream_abort`). */
  signal?: AbortSignal
}

export interface AgentSendOptions {
  idempotencyKey?: string
  traceId?: string
}

export interface IntroduceOptions {
  reason?: string
  traceId?: string
}

export interface AgentCallerOptions extends PushClientOptions {
  /** The gateway's wait for an agent when a request names none (its `agents.requestTimeout`). Default 30 000. */
  agentRequestTimeoutMs?: number
  /** How long `introduce` waits (the gateway's `agents.introductionTimeout` is 30 s). Default 30 000. */
  introductionTimeoutMs?: number
}

// The gateway answers `timeout` itself when its timer fires; the client's own timer runs this much longer so it
// only fires when that answer is lost.
const TIMEOUT_MARGIN_MS = 2_000
const DEFAULT_AGENT_REQUEST_TIMEOUT_MS = 30_000

/**
 * What any client may do with agents: discover them, ask them (`request`), read their streams, message them,
 * ask to be introduced, relay signals and use shared state. `AgentClient` adds being an agent.
 */
export class AgentCaller extends PushClient {
  /** Versioned key-value namespaces shared through the gateway. */
  readonly sharedState: SharedState
  /** Live grants of this client, by grant id (from `connected`, removed on `grant_revoked`). */
  readonly grants = new Map<string, GrantEvent>()
  protected readonly agentEmitter: TypedEmitter<AgentClientEvents>
  private readonly openStreams = new Map<string, AgentStream<unknown>>()
  private readonly unboundStreams = new Set<AgentStream<unknown>>()
  private readonly agentRequestTimeoutMs: number
  private readonly introductionTimeoutMs: number

  constructor(url: string, options: AgentCallerOptions = {}) {
    super(url, options)
    this.agentRequestTimeoutMs = options.agentRequestTimeoutMs ?? DEFAULT_AGENT_REQUEST_TIMEOUT_MS
    this.introductionTimeoutMs = options.introductionTimeoutMs ?? 30_000
    this.agentEmitter = new TypedEmitter<AgentClientEvents>((event, error) => {
      this.log('error', { event, error: String(error) }, 'an event listener threw; the client carries on')
    })
    this.sharedState = new SharedState(
      (body) => this.checkedCall(body),
      (error) => this.log('error', { error: String(error) }, 'a state watch listener threw'),
    )
  }

  override on<E extends keyof AgentClientEvents>(event: E, listener: Listener<AgentClientEvents[E]>): this {
    if (isAgentEvent(event)) this.agentEmitter.on(event, listener)
    else super.on(event as PushClientEvent, listener as Listener<PushClientEvents[PushClientEvent]>)
    return this
  }

  override off<E extends keyof AgentClientEvents>(event: E, listener: Listener<AgentClientEvents[E]>): this {
    if (isAgentEvent(event)) this.agentEmitter.off(event, listener)
    else super.off(event as PushClientEvent, listener as Listener<PushClientEvents[PushClientEvent]>)
    return this
  }

  /** `call` after checking the frame against its protocol schema: bad input rejects with `bad_request`. */
  protected checkedCall(body: RequestBody, options: CallOptions = {}): Promise<Record<string, unknown>> {
    try {
      checkFrame(body)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.call(body, options)
  }

  /** The agents this client may reach, optionally only the holders of `capability`. */
  async agents(options: { capability?: string } = {}): Promise<AgentSummary[]> {
    const result = await this.checkedCall(
      options.capability === undefined
        ? { type: 'agents_list' }
        : { type: 'agents_list', capability: options.capability },
    )
    return parseResult(AgentsListResult, result, 'agents_list').agents
  }

  /** Asks an agent (an id or `{ capability }`) and resolves with its answer's data. */
  async request<T = unknown>(
    target: DirectTarget,
    data: unknown,
    options: AgentRequestOptions = {},
  ): Promise<T> {
    return (await this.requestResult(target, data, options)).data as T
  }

  /** Like `request`, with the whole result: `agentId`, `instanceId`, `latencyMs`, `attempts`, `traceId`. */
  async requestResult(
    target: DirectTarget,
    data: unknown,
    options: AgentRequestOptions = {},
  ): Promise<RequestResultType> {
    checkData(data)
    const timeoutMs = options.timeoutMs ?? this.agentRequestTimeoutMs
    const result = await this.checkedCall(
      {
        type: 'request',
        target,
        data,
        timeoutMs,
        ...(options.idempotent === undefined ? {} : { idempotent: options.idempotent }),
        ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
      },
      {
        timeoutMs: timeoutMs + TIMEOUT_MARGIN_MS,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        timeoutError: () =>
          new RequestTimeoutError({
            message: `no answer from ${describeTarget(target)} within ${timeoutMs} ms`,
          }),
      },
    )
    return parseResult(RequestResult, result, 'request')
  }

  /**
   * Calls `tool` of the upstream MCP server the gateway knows as `server` (`parley mcp add <server> <url>`): a
   * `request` to the capability `mcp:{server}__{tool}` (the tool name escaped by `mcpToolCapability`), resolving
   * with the tool's `CallToolResult`. A result with `isError: true` (the tool failed) resolves too; the gateway's
   * refusals reject as for `request` (`PolicyDeniedError`, `NoRouteError` while the server is down or unknown,
   * `AgentUnavailableError` when it stopped answering during the call, `AgentError` for its JSON-RPC errors).
   */
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown> = {},
    options: AgentRequestOptions = {},
  ): Promise<McpCallToolResult> {
    return this.request<McpCallToolResult>({ capability: mcpToolCapability(server, tool) }, args, options)
  }

  /**
   * Opens a stream to an agent: iterate it with `for await` to read the agent's chunks. Errors (the open
   * refused, `stream_error`, `stream_abort`, a lost connection) throw from the iterator; leaving the loop early
   * aborts the stream.
   */
  stream<T = unknown>(target: DirectTarget, data: unknown, options: AgentStreamOptions = {}): AgentStream<T> {
    checkData(data)
    const credit = options.credit ?? DEFAULT_STREAM_CREDIT
    checkFrame({
      type: 'stream_open',
      target,
      data,
      credit,
      ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
    })
    const signal = options.signal
    const onAbort = (): void => stream.abort(reasonOf(signal?.reason))
    const stream: AgentStream<T> = new AgentStream<T>(
      (frame) => this.sendFrame(frame),
      credit,
      (opening) => {
        this.unboundStreams.add(opening as AgentStream<unknown>)
        return this.call(
          {
            type: 'stream_open',
            target,
            data,
            credit,
            ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
          },
          {
            onResult: (result) => {
              this.unboundStreams.delete(opening as AgentStream<unknown>)
              const streamId = typeof result.streamId === 'string' ? result.streamId : undefined
              if (streamId === undefined) return
              opening.bind(streamId)
              // Aborted before the gateway answered: the abort goes out now, nothing more is routed to it.
              if (!opening.done) this.openStreams.set(streamId, opening as AgentStream<unknown>)
            },
          },
        ).then((result) => parseResult(StreamOpenResult, result, 'stream_open'))
      },
      (finished) => {
        this.unboundStreams.delete(finished as AgentStream<unknown>)
        if (finished.streamId !== undefined) this.openStreams.delete(finished.streamId)
        signal?.removeEventListener('abort', onAbort)
      },
    )
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    return stream
  }

  /**
   * Sends a message to agents, at least once: an agent id, `{ capability }` (one holder), `{ broadcast: true }`
   * or `{ broadcast: { capability } }`. Each recipient gets a `direct_message` event.
   */
  async sendTo(
    target: AgentTarget,
    data: unknown,
    options: AgentSendOptions = {},
  ): Promise<AgentSendResultType> {
    checkData(data)
    const result = await this.checkedCall({
      type: 'agent_send',
      target,
      data,
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
    })
    return parseResult(AgentSendResult, result, 'agent_send')
  }

  /** `sendTo` every active agent, or every holder of `capability`. */
  broadcastToAgents(
    data: unknown,
    options: AgentSendOptions & { capability?: string } = {},
  ): Promise<AgentSendResultType> {
    const { capability, ...rest } = options
    return this.sendTo({ broadcast: capability === undefined ? true : { capability } }, data, rest)
  }

  /**
   * Asks to be introduced to an agent. Resolves with the grant once it accepted; rejects with
   * `IntroductionRejectedError`, `RequestTimeoutError`, `NoRouteError` or `PolicyDeniedError`.
   */
  async introduce(target: DirectTarget, options: IntroduceOptions = {}): Promise<IntroduceResultType> {
    const result = await this.checkedCall(
      {
        type: 'introduce',
        target,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
      },
      {
        timeoutMs: this.introductionTimeoutMs + TIMEOUT_MARGIN_MS,
        timeoutError: () =>
          new RequestTimeoutError({
            message: `${describeTarget(target)} did not answer the introduction in time`,
          }),
      },
    )
    const grant = parseResult(IntroduceResult, result, 'introduce')
    this.grants.set(grant.grantId, grant)
    return grant
  }

  /** Relays a WebRTC-style signal to a peer (an agent id or a client id that is online). */
  async signal(
    target: string,
    signal: Signal,
    options: { traceId?: string } = {},
  ): Promise<SignalResultType> {
    const result = await this.checkedCall({
      type: 'signal',
      target,
      signal,
      ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
    })
    return parseResult(SignalResult, result, 'signal')
  }

  // ------------------------------------------------------------------ hooks

  protected override afterWelcome(info: WelcomeInfo): Promise<void> {
    void info
    return this.sharedState.rewatch().catch((error: unknown) => {
      // The connection went again: the next welcome renews the watches.
      if (!this.isWelcomed) return
      this.reportError(
        error instanceof ParleyError
          ? error
          : new ParleyError({ code: 'internal', message: `renewing state watches failed: ${String(error)}` }),
      )
    })
  }

  protected override handleExtraFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'stream_chunk':
        this.openStreams.get(frame.streamId)?.handleChunk(frame)
        return
      case 'stream_end':
        this.openStreams.get(frame.streamId)?.handleEnd(frame.data)
        return
      case 'stream_error':
        this.openStreams.get(frame.streamId)?.handleError(frame.error)
        return
      case 'stream_abort':
        this.openStreams.get(frame.streamId)?.handleAbort(frame.reason)
        return
      case 'stream_credit':
        // The opener sends no chunks to the agent (yet): nothing uses credit here.
        return
      case 'connected': {
        const { type: _type, ...grant } = frame
        this.grants.set(grant.grantId, grant)
        this.agentEmitter.emit('connected', grant)
        return
      }
      case 'grant_revoked': {
        const { type: _type, ...grant } = frame
        this.grants.delete(grant.grantId)
        this.agentEmitter.emit('grant_revoked', grant)
        return
      }
      case 'signal_incoming': {
        const { type: _type, ...event } = frame
        this.agentEmitter.emit('signal', event)
        return
      }
      case 'state_change': {
        const { type: _type, ...change } = frame
        this.sharedState.dispatch(change)
        return
      }
      default:
        this.log('debug', { type: frame.type }, 'ignored a frame meant for agents')
    }
  }

  protected override connectionLost(reason: string): void {
    for (const stream of [...this.openStreams.values(), ...this.unboundStreams]) {
      stream.handleConnectionLost(reason)
    }
    this.openStreams.clear()
  }
}

// ---------------------------------------------------------------------------- agents

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
  /** The A2A task the request runs as, when an A2A caller sent it (`continued`: it continues that task). */
  a2aTask: A2aTaskRef | undefined
  /** Fires when the deadline passed, the caller canceled (`request_cancel`) or the connection went away: the answer would be dropped. */
  signal: AbortSignal
}

/** What an agent's stream handler knows about the stream it serves. */
export interface StreamContext {
  from: Caller
  streamId: string
  traceId: string
  capability: string | undefined
  /** The A2A task the stream runs as, when an A2A caller sent it (`continued`: it continues that task). */
  a2aTask: A2aTaskRef | undefined
}

export type RequestHandler = (data: unknown, context: RequestContext) => unknown
export type StreamHandler = (data: unknown, sink: StreamSink, context: StreamContext) => unknown

/** An introduction request as an agent's `onIntroduction` handler gets it. */
export interface Introduction {
  handshakeId: string
  from: Caller
  reason: string | undefined
  traceId: string
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
      a2aTask: frame.from.a2aTask,
      signal: controller.signal,
    }
    let answer: { data: unknown } | { error: { code: string; message: string } }
    if (handler === undefined) {
      answer = { error: { code: 'no_handler', message: `${this.agentId} has no request handler` } }
    } else {
      try {
        const data = await handler(frame.data, context)
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
      await handler(frame.data, sink, context)
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
        const outcome = await handler({
          handshakeId: frame.handshakeId,
          from: frame.from,
          reason: frame.reason,
          traceId: frame.traceId,
        })
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

  private handlerFor<H>(handlers: Map<string, H>, capability: string | undefined): H | undefined {
    return (capability === undefined ? undefined : handlers.get(capability)) ?? handlers.get(ANY_CAPABILITY)
  }
}

const AGENT_EVENTS = new Set<string>(['connected', 'grant_revoked', 'signal', 'registered'])

function isAgentEvent(event: string): event is 'connected' | 'grant_revoked' | 'signal' | 'registered' {
  return AGENT_EVENTS.has(event)
}

type RequestBody = Parameters<PushClient['call']>[0]

/** Throws `bad_request` when `body` (a request frame without its id) does not match its protocol schema. */
function checkFrame(body: RequestBody): void {
  const parsed = ClientFrame.safeParse({ ...body, id: 'r0' })
  if (!parsed.success) {
    throw new ParleyError({ code: 'bad_request', message: describeIssues(body.type, parsed.error) })
  }
}

function checkData(data: unknown): asserts data is NonNullable<unknown> | null {
  if (data === undefined) throw new ParleyError({ code: 'bad_request', message: 'data is required' })
}

function describeTarget(target: DirectTarget): string {
  return typeof target === 'string' ? `agent "${target}"` : `capability "${target.capability}"`
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
