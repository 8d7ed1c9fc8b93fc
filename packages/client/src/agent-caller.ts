import {
  type AgentRegisterResult,
  AgentSendResult,
  type AgentSendResult as AgentSendResultType,
  type AgentSummary,
  AgentsListResult,
  type AgentTarget,
  type Caller,
  ClientFrame,
  type DirectTarget,
  describeIssues,
  type GrantPeer,
  IntroduceResult,
  type IntroduceResult as IntroduceResultType,
  mcpToolCapability,
  RequestResult,
  type RequestResult as RequestResultType,
  type ServerFrame,
  type Signal,
  SignalResult,
  type SignalResult as SignalResultType,
  StreamOpenResult,
  type TraceContext,
} from '@parley/protocol'
import { SharedState } from './agent-state.js'
import { AgentStream, DEFAULT_STREAM_CREDIT } from './agent-streams.js'
import { ParleyError, RequestTimeoutError, reasonOf } from './errors.js'
import { checkData, parseResult } from './input-checks.js'
import type { McpCallToolResult } from './mcp-tools.js'
import type { RequestBody } from './pending-requests.js'
import { PushClient } from './push-client.js'
import type {
  CallOptions,
  PushClientEvent,
  PushClientEvents,
  PushClientOptions,
  WelcomeInfo,
} from './push-client-types.js'
import { handledRequest, outgoingTraceContext } from './trace-context.js'
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
  /**
   * The request this one is made for, from a handler (its `RequestContext`): the call continues its trace
   * (`traceId`, unless given) one hop deeper, so the gateway can stop agents calling each other in a loop
   * (`loop_detected` past `agents.maxHops`).
   */
  context?: { traceId: string; hops: number } & TraceContext
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
        ...traceOf(options),
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
    // Taken now, in the caller's context: the frame goes out later, from the stream's first read.
    const traceContext = outgoingTraceContext()
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
            ...traceContext,
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
      ...outgoingTraceContext(),
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
        ...outgoingTraceContext(),
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

const AGENT_EVENTS = new Set<string>(['connected', 'grant_revoked', 'signal', 'registered'])

function isAgentEvent(event: string): event is 'connected' | 'grant_revoked' | 'signal' | 'registered' {
  return AGENT_EVENTS.has(event)
}

/** Throws `bad_request` when `body` (a request frame without its id) does not match its protocol schema. */
export function checkFrame(body: RequestBody): void {
  const parsed = ClientFrame.safeParse({ ...body, id: 'r0' })
  if (!parsed.success) {
    throw new ParleyError({ code: 'bad_request', message: describeIssues(body.type, parsed.error) })
  }
}

function describeTarget(target: DirectTarget): string {
  return typeof target === 'string' ? `agent "${target}"` : `capability "${target.capability}"`
}

/**
 * A request's trace fields: its own `traceId`, or its `context`'s, the hops one deeper than the context, and
 * the W3C trace context of the active OpenTelemetry span (else the context's).
 */
function traceOf(options: AgentRequestOptions): { traceId?: string; hops?: number } & TraceContext {
  // Without `{ context }`, the request whose handler runs now (when a context manager carries it here).
  const inherited = options.context ?? handledRequest()
  const traceId = options.traceId ?? inherited?.traceId
  return {
    ...(traceId === undefined ? {} : { traceId }),
    ...(inherited === undefined ? {} : { hops: inherited.hops + 1 }),
    ...outgoingTraceContext(options.context),
  }
}
