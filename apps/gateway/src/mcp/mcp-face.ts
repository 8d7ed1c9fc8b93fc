import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js'
import { type AgentSummary, type ErrorBody, errorBody, type TraceContext } from '@parley/protocol'
import type { Logger } from 'pino'
import { inputProblem } from '../agents/capability-schemas.js'
import type { AccessParty } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { Principal } from '../auth/auth-provider.js'
import { newTraceId } from '../ids.js'
import { traceIdOf } from '../tracing/gateway-tracing.js'
import { traceContextOfHeaders } from '../tracing/http-trace-context.js'
import { type CallOutcome, type McpAgentCalls, runToolCall } from './mcp-calls.js'
import { refusalError, toolResult } from './mcp-results.js'
import type { CallResultKind, McpStats } from './mcp-stats.js'
import { type McpTool, toolsOf } from './mcp-tools.js'

export const MCP_SERVER_NAME = 'parley'
/** Idle SDK servers kept for reuse (about the requests in flight at a busy moment). */
const MAX_IDLE_SERVERS = 64

export interface McpFaceDeps {
  gatewayVersion: string
  agents: McpAgentCalls & {
    /** The agents the caller may `request`. */
    listFor(caller: AccessParty, capability?: string): Promise<AgentSummary[]>
    /** Every known agent, inactive ones included. */
    listAll(capability?: string): Promise<AgentSummary[]>
  }
  audit: Pick<ConnectionAudit, 'record'>
  stats: McpStats
  /** Calls one principal may have running at once on this node (`agents.maxInFlightPerConnection`). */
  maxInFlightPerPrincipal: number
  logger: Logger
}

export function partyOf(principal: Principal): AccessParty {
  return { principal: principal.id, role: principal.role, clientId: `mcp:${principal.id}` }
}

/** Refusals of a call that the audit counts as `denied` rather than `error`. */
const DENIALS = new Set(['policy_denied', 'introduction_required', 'forbidden'])

function resultKind(outcome: CallOutcome | undefined): CallResultKind {
  if (outcome === undefined || outcome.kind === 'refused') return 'refused'
  return outcome.kind === 'agent_error' ? 'tool_error' : 'ok'
}

/** The audit detail of a refusal: its code, and the policy rule for a denial. */
function refusalDetail(error: ErrorBody): string {
  const rule = (error.details as { rule?: unknown } | undefined)?.rule
  if (error.code === 'policy_denied' || error.code === 'introduction_required')
    return `${error.code} ${typeof rule === 'string' ? `rule=${rule}` : 'default'}`
  return error.code
}

/**
 * What a call needs of its MCP request: its cancellation, its progress token, how to report progress and the
 * caller's accepted trace context.
 */
interface CallExtra {
  signal: AbortSignal
  trace: TraceContext
  progressToken: string | number | undefined
  notify: (progress: number, message: string) => Promise<void>
}

function progressTokenOf(meta: unknown): string | number | undefined {
  const token = (meta as { progressToken?: unknown } | undefined)?.progressToken
  return typeof token === 'string' || typeof token === 'number' ? token : undefined
}

/**
 * Parley's agents as MCP tools. Every HTTP request gets its own stateless
 * `WebStandardStreamableHTTPServerTransport` (no session id: any node answers any request) and an SDK `Server`
 * (an idle one for a JSON answer); the handlers take the caller from the request's `authInfo` and read the live
 * directory, so nothing is kept between requests. `tools/list` answers the tools of the agents the
 * caller may `request` (the agent layer's `listFor`, i.e. the access module); `tools/call` checks the arguments
 * against the capability's input schema, then runs a Parley request (or, with a progress token, a stream whose
 * chunks become progress notifications) through the agent layer.
 */
export function createMcpFace(deps: McpFaceDeps) {
  const { audit, stats, logger } = deps
  const inFlight = new Map<string, number>()
  /**
   * The calls running on this node by caller and JSON-RPC id: a `notifications/cancelled` arrives in a POST of
   * its own (stateless: on a new server), which aborts the call here when it runs on this node.
   */
  const cancellable = new Map<string, AbortController>()
  const callKey = (principal: Principal, requestId: string | number) =>
    `${principal.id}\u0000${typeof requestId}:${requestId}`

  function record(
    principal: Principal,
    fields: {
      outcome: 'ok' | 'error' | 'denied'
      detail: string
      target?: string
      startedAt: number
      correlationId?: string
      traceId?: string
    },
  ): void {
    audit.record({
      kind: 'mcp',
      outcome: fields.outcome,
      principal: principal.id,
      clientId: `mcp:${principal.id}`,
      connectionId: null,
      target: fields.target ?? null,
      correlationId: fields.correlationId ?? null,
      traceId: fields.traceId ?? null,
      latencyMs: Date.now() - fields.startedAt,
      detail: fields.detail,
    })
  }

  /** The tools the caller may list (and so call). */
  async function toolsFor(principal: Principal): Promise<Map<string, McpTool>> {
    return toolsOf(await deps.agents.listFor(partyOf(principal)))
  }

  async function listTools(principal: Principal) {
    const startedAt = Date.now()
    const tools = await toolsFor(principal)
    record(principal, { outcome: 'ok', detail: `tools/list ${tools.size} tools`, startedAt })
    return { tools: [...tools.values()].map((tool) => tool.definition) }
  }

  async function callTool(
    principal: Principal,
    name: string,
    args: Record<string, unknown> | undefined,
    extra: CallExtra,
  ): Promise<CallToolResult> {
    const startedAt = Date.now()
    // The caller's trace id when it sent one, so the audit rows name its OpenTelemetry trace.
    const traceId = traceIdOf(extra.trace) ?? newTraceId()
    // A tool the caller may not list is resolved among all tools: the agent layer then refuses it
    // (policy_denied, naming the rule) exactly as a WebSocket request to it would be refused.
    const tool = (await toolsFor(principal)).get(name) ?? toolsOf(await deps.agents.listAll()).get(name)
    if (tool === undefined) {
      record(principal, { outcome: 'error', detail: `tools/call ${name} not_found`, startedAt, traceId })
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool: ${name}`,
        errorBody('not_found', `no tool ${name} on this gateway`),
      )
    }
    const input = args ?? {}
    const data = tool.wrapsInput ? input.input : input
    /** A refusal before the agent is asked: audited, counted, answered as a JSON-RPC error. */
    const refuse = (error: ErrorBody): never => {
      record(principal, {
        outcome: 'error',
        detail: `tools/call ${name} ${error.code}`,
        target: tool.agentId,
        startedAt,
        traceId,
      })
      stats.called(tool.name, 'refused')
      throw refusalError(error)
    }
    const problem = inputProblem(tool.info, data)
    if (problem !== undefined)
      refuse(errorBody('bad_request', `the arguments of ${name} do not match its input schema: ${problem}`))
    const running = inFlight.get(principal.id) ?? 0
    if (running >= deps.maxInFlightPerPrincipal)
      refuse(
        errorBody(
          'rate_limited',
          `${running} MCP calls of ${principal.id} are running already (agents.maxInFlightPerConnection)`,
          1_000,
        ),
      )
    inFlight.set(principal.id, running + 1)
    try {
      return await runCall(principal, tool, data, extra, { startedAt, traceId })
    } finally {
      const left = (inFlight.get(principal.id) ?? 1) - 1
      if (left <= 0) inFlight.delete(principal.id)
      else inFlight.set(principal.id, left)
    }
  }

  async function runCall(
    principal: Principal,
    tool: McpTool,
    data: unknown,
    extra: CallExtra,
    { startedAt, traceId }: { startedAt: number; traceId: string },
  ): Promise<CallToolResult> {
    const { name } = tool
    let correlationId: string | undefined
    let progress = 0
    const stream = extra.progressToken !== undefined && tool.origin === 'agent'
    const run = (asStream: boolean) =>
      runToolCall(
        deps.agents,
        {
          principal,
          agentId: tool.agentId,
          capability: tool.capability,
          data: data ?? null,
          stream: asStream,
          signal: extra.signal,
          traceId,
          trace: extra.trace,
          onChunk(chunk) {
            progress += 1
            extra
              .notify(progress, typeof chunk === 'string' ? chunk : JSON.stringify(chunk))
              .catch((error: unknown) => logger.debug({ err: error }, 'MCP progress notification failed'))
          },
        },
        (id) => {
          correlationId = id
        },
      )
    let outcome = await run(stream)
    // An agent without a stream handler for the capability is asked with a plain request instead.
    if (stream && outcome.kind === 'agent_error' && outcome.code === 'no_handler' && progress === 0)
      outcome = await run(false)
    let result: CallToolResult | undefined
    if (outcome.kind !== 'refused') {
      try {
        result = toolResult(tool, outcome)
      } catch (error) {
        // An upstream answer that is not a CallToolResult: the gateway's failure, not the tool's.
        outcome = { kind: 'refused', error: (error as McpError).data as ErrorBody }
      }
    }
    stats.called(tool.name, resultKind(outcome))
    const base = {
      target: tool.agentId,
      startedAt,
      traceId,
      ...(correlationId === undefined ? {} : { correlationId }),
    }
    if (outcome.kind === 'refused' || result === undefined) {
      const error = outcome.kind === 'refused' ? outcome.error : errorBody('internal', 'no result')
      record(principal, {
        ...base,
        outcome: DENIALS.has(error.code) ? 'denied' : 'error',
        detail: `tools/call ${name} ${refusalDetail(error)}`,
      })
      throw refusalError(error)
    }
    record(principal, {
      ...base,
      outcome: outcome.kind === 'agent_error' ? 'error' : 'ok',
      detail:
        outcome.kind === 'agent_error'
          ? `tools/call ${name} agent_error ${outcome.code}`
          : `tools/call ${name}`,
    })
    return result
  }

  /**
   * The principal the route authenticated and the trace context accepted from its request's headers, handed to
   * the handlers through the SDK's `authInfo`.
   */
  const authInfoOf = (principal: Principal, request: Request): AuthInfo => ({
    token: '',
    clientId: principal.id,
    scopes: principal.scopes,
    extra: { principal, trace: traceContextOfHeaders(principal, request.headers) },
  })
  const principalOf = (authInfo: AuthInfo | undefined): Principal => {
    const principal = authInfo?.extra?.principal as Principal | undefined
    if (principal === undefined) throw new McpError(ErrorCode.InternalError, 'the MCP request has no caller')
    return principal
  }
  const traceOf = (authInfo: AuthInfo | undefined): TraceContext =>
    (authInfo?.extra?.trace as TraceContext | undefined) ?? {}

  /** An SDK server whose handlers take the caller from `authInfo` and read the live directory. */
  function newServer(): Server {
    const server = new Server(
      { name: MCP_SERVER_NAME, version: deps.gatewayVersion },
      { capabilities: { tools: { listChanged: true } } },
    )
    server.setRequestHandler(ListToolsRequestSchema, (_request, extra) =>
      listTools(principalOf(extra.authInfo)),
    )
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const progressToken = progressTokenOf(request.params._meta)
      const principal = principalOf(extra.authInfo)
      const key = callKey(principal, extra.requestId)
      const cancel = new AbortController()
      const onAbort = () => cancel.abort()
      if (extra.signal.aborted) cancel.abort()
      else extra.signal.addEventListener('abort', onAbort, { once: true })
      cancellable.set(key, cancel)
      try {
        return await callTool(principal, request.params.name, request.params.arguments, {
          signal: cancel.signal,
          trace: traceOf(extra.authInfo),
          progressToken,
          notify: (progress, message) =>
            progressToken === undefined
              ? Promise.resolve()
              : extra.sendNotification({
                  method: 'notifications/progress',
                  params: { progressToken, progress, message },
                }),
        })
      } finally {
        extra.signal.removeEventListener('abort', onAbort)
        if (cancellable.get(key) === cancel) cancellable.delete(key)
      }
    })
    return server
  }
  /**
   * Servers between JSON requests: building one (its handlers and schemas) costs about as much as answering a
   * request, and a server holds nothing of a request once closed. A server is used by one request at a time.
   */
  const idle: Server[] = []

  return {
    /**
     * Answers one POST (or DELETE) with a fresh server and stateless transport. `parsedBody` is the JSON the
     * route read; `streaming` answers over SSE (a call with a progress token), anything else as JSON.
     */
    async answer(
      request: Request,
      principal: Principal,
      parsedBody: unknown,
      streaming: boolean,
    ): Promise<Response> {
      const server = (streaming ? undefined : idle.pop()) ?? newServer()
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: !streaming,
      })
      transport.onerror = (error) => logger.debug({ err: error }, 'MCP request refused by the transport')
      await server.connect(transport)
      // The client went away: closing the server aborts the call (the agent is told). That server is not reused.
      const gone = () => void server.close()
      request.signal.addEventListener('abort', gone, { once: true })
      const response = await transport.handleRequest(request, {
        parsedBody,
        authInfo: authInfoOf(principal, request),
      })
      // An SSE answer ends when its call does (the SDK closes it), or when the client goes away.
      if (streaming) return response
      // A JSON answer is complete: nothing of the request stays open.
      request.signal.removeEventListener('abort', gone)
      await server.close()
      if (idle.length < MAX_IDLE_SERVERS) idle.push(server)
      return response
    },

    /**
     * Opens the standalone GET stream for `notifications/tools/list_changed`. `listen` is given a function that
     * sends the notification and one that closes the stream, and returns one that stops listening.
     */
    async listen(
      request: Request,
      principal: Principal,
      listen: (notify: () => void, close: () => void) => Promise<() => void>,
    ): Promise<Response> {
      const server = newServer()
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      transport.onerror = (error) => logger.debug({ err: error }, 'MCP stream refused by the transport')
      await server.connect(transport)
      const response = await transport.handleRequest(request, { authInfo: authInfoOf(principal, request) })
      if (response.status !== 200) {
        await server.close()
        return response
      }
      let stop = () => {}
      const closed = () => {
        stop()
        void server.close()
      }
      stop = await listen(() => {
        server
          .sendToolListChanged()
          .catch((error: unknown) => logger.debug({ err: error }, 'MCP list_changed notification failed'))
      }, closed)
      if (request.signal.aborted) closed()
      else request.signal.addEventListener('abort', closed, { once: true })
      return response
    },

    /** A `notifications/cancelled` of `principal`: aborts its call `requestId` when it runs on this node. */
    cancel(principal: Principal, requestId: string | number): boolean {
      const running = cancellable.get(callKey(principal, requestId))
      running?.abort()
      return running !== undefined
    },

    /** Audits a request refused before the SDK saw it (a missing scope): outcome `denied`. */
    recordRefusal(principal: Principal, detail: string): void {
      record(principal, { outcome: 'denied', detail, startedAt: Date.now() })
    },

    /** The tools `as` could list (every tool without `as`), as the admin "view as" shows them. */
    async toolsViewedAs(as: AccessParty | undefined): Promise<McpTool[]> {
      const agents = as === undefined ? await deps.agents.listAll() : await deps.agents.listFor(as)
      return [...toolsOf(agents).values()]
    },

    /** Every active tool's name (what the list_changed watcher compares). */
    async allToolNames(): Promise<string[]> {
      return [...toolsOf(await deps.agents.listAll()).keys()].sort()
    },
  }
}

export type McpFace = ReturnType<typeof createMcpFace>
