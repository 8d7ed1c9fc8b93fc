import {
  A2A_VERSION_HEADER,
  type AgentCard,
  formatSSEErrorEvent,
  formatSSEEvent,
  SSE_HEADERS,
} from '@a2a-js/sdk'
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server'
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  JsonRpcTransportHandler,
  ServerCallContext,
  validateVersion,
} from '@a2a-js/sdk/server'
import { type AgentSummary, errorBody } from '@parley/protocol'
import type { Context } from 'hono'
import type { Logger } from 'pino'
import type { AccessParty } from '../agents/types.js'
import type { Principal } from '../auth/auth-provider.js'
import type { Authenticate } from '../auth/authenticator.js'
import type { GatewayConfig } from '../config.js'
import { httpAuthRequest, refusedResponse } from '../http/bearer-auth.js'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { a2aCardUrl, agentCardJson, buildAgentCard } from './a2a-card.js'
import {
  JSON_RPC_PARSE_ERROR,
  type JsonRpcError,
  jsonRpcErrorResponse,
  jsonRpcRefusal,
} from './a2a-errors.js'
import { type A2aAgentCalls, a2aCallOf, createA2aExecutor, setA2aCall } from './a2a-executor.js'
import type { A2aTaskStore } from './a2a-task-store.js'

export interface A2aRoutesDeps {
  config: GatewayConfig
  gatewayVersion: string
  /** Checks the bearer credential like a connection's (any role). */
  authenticate: Authenticate
  agents: A2aAgentCalls & {
    /** The agents the caller may `request`. */
    listFor(caller: AccessParty, capability?: string): Promise<AgentSummary[]>
    /** Every known agent, inactive ones included. */
    listAll(capability?: string): Promise<AgentSummary[]>
  }
  tasks: A2aTaskStore
  logger: Logger
}

/** The methods (v1.0, v0.3) whose message reaches the agent as a Parley stream. */
const SENDS_A_STREAM = new Set(['SendStreamingMessage', 'message/stream'])

type JsonRpcResponse = { jsonrpc: string; id: string | number | null; result?: unknown; error?: unknown }

function isAsyncIterable(value: unknown): value is AsyncGenerator<JsonRpcResponse, void, undefined> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === 'function'
}

function partyOf(principal: Principal): AccessParty {
  return { principal: principal.id, role: principal.role }
}

/**
 * The A2A face: `GET /a2a` (the agents the caller may reach, with their card URLs), each agent's card at
 * `/a2a/{agentId}/.well-known/agent-card.json` (and the older `agent.json`), and its JSON-RPC endpoint
 * `POST /a2a/{agentId}` for v1.0 callers (`A2A-Version: 1.0`) and v0.3 callers (no header). The SDK's
 * transport handlers and `DefaultRequestHandler` speak the protocol; the executor hands each message to the
 * agent layer, which decides access, routes and audits like for any connection.
 */
export function registerA2aRoutes(app: GatewayApp, deps: A2aRoutesDeps): void {
  const { config, logger } = deps
  const { executor } = createA2aExecutor({ agents: deps.agents, logger })
  const buses = new DefaultExecutionEventBusManager()

  const baseUrl = (c: Context<GatewayEnv>) =>
    (config.pairing.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '')

  async function principalOf(c: Context<GatewayEnv>): Promise<Principal | Response> {
    const outcome = await deps.authenticate(httpAuthRequest(c), { surface: 'a2a' })
    return outcome.ok ? outcome.principal : refusedResponse(c, outcome, 'parley')
  }

  async function knownAgent(agentId: string): Promise<AgentSummary | undefined> {
    return (await deps.agents.listAll()).find((agent) => agent.agentId === agentId)
  }

  app.get('/a2a', async (c) => {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    const base = baseUrl(c)
    const agents = await deps.agents.listFor(partyOf(principal))
    return c.json({
      agents: agents.map((agent) => ({
        agentId: agent.agentId,
        status: agent.status,
        capabilities: agent.capabilities,
        cardUrl: a2aCardUrl(base, agent.agentId),
      })),
    })
  })

  async function serveCard(c: Context<GatewayEnv>): Promise<Response> {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    const agentId = c.req.param('agentId') ?? ''
    // Only the agents the caller may reach: a card of any other answers like an unknown agent.
    const agent = (await deps.agents.listFor(partyOf(principal))).find(
      (summary) => summary.agentId === agentId,
    )
    if (agent === undefined) return errorResponse(c, 'not_found', `no agent ${agentId} reachable over A2A`)
    c.header('Cache-Control', 'no-cache')
    return c.json(agentCardJson(buildAgentCard(agent, baseUrl(c), deps.gatewayVersion)) as object)
  }
  app.get('/a2a/:agentId/.well-known/agent-card.json', serveCard)
  app.get('/a2a/:agentId/.well-known/agent.json', serveCard)

  app.post('/a2a/:agentId', async (c) => {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    const agentId = c.req.param('agentId')
    const declared = Number(c.req.header('content-length') ?? '0')
    if (declared > config.maxPayload) return c.json(jsonRpcErrorResponse(null, tooLarge(config.maxPayload)))
    const text = await c.req.text()
    if (Buffer.byteLength(text) > config.maxPayload)
      return c.json(jsonRpcErrorResponse(null, tooLarge(config.maxPayload)))
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return c.json(
        jsonRpcErrorResponse(null, { code: JSON_RPC_PARSE_ERROR, message: 'Invalid JSON payload.' }),
      )
    }
    const { id, method } = (typeof body === 'object' && body !== null ? body : {}) as {
      id?: unknown
      method?: unknown
    }
    const requestedVersion = c.req.header(A2A_VERSION_HEADER) || undefined
    const legacy = requestedVersion === undefined || requestedVersion === '0.3'
    const mapError = legacy
      ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError
      : JsonRpcTransportHandler.mapToJSONRPCError
    const agent = await knownAgent(agentId)
    if (agent === undefined)
      return c.json(jsonRpcErrorResponse(id, jsonRpcRefusal(errorBody('no_route', `no agent ${agentId}`))))

    const card: AgentCard = buildAgentCard(agent, baseUrl(c), deps.gatewayVersion)
    const context = new ServerCallContext({
      user: { isAuthenticated: true, userName: principal.id },
      ...(requestedVersion === undefined ? {} : { requestedVersion }),
    })
    setA2aCall(context, {
      agentId,
      principal,
      streaming: typeof method === 'string' && SENDS_A_STREAM.has(method),
    })
    /** The gateway's refusal (access, no route, limits) replaces the SDK's generic error for the same call. */
    const errorOf = (error: unknown): JsonRpcError => {
      const refusal = a2aCallOf(context)?.refusal
      return refusal === undefined ? (mapError(error) as JsonRpcError) : jsonRpcRefusal(refusal)
    }
    try {
      validateVersion(context.requestedVersion, card, 'JSONRPC')
      const handler = new DefaultRequestHandler(card, deps.tasks, executor, buses)
      const transport = legacy
        ? new LegacyJsonRpcTransportHandler(handler)
        : new JsonRpcTransportHandler(handler)
      const answer = await transport.handle(body as Record<string, unknown>, context)
      if (!isAsyncIterable(answer)) {
        const refusal = a2aCallOf(context)?.refusal
        if (refusal !== undefined && answer.error !== undefined)
          return c.json(jsonRpcErrorResponse(id, jsonRpcRefusal(refusal)))
        return c.json(answer)
      }
      return await streamAnswer(c, answer, id, errorOf, legacy && method === 'tasks/resubscribe')
    } catch (error) {
      logger.debug({ err: error, agentId, method }, 'A2A call failed')
      return c.json(jsonRpcErrorResponse(id, errorOf(error)))
    }
  })
}

function tooLarge(limit: number): JsonRpcError {
  return jsonRpcRefusal(
    errorBody('payload_too_large', `the request body is larger than ${limit} bytes (maxPayload)`),
  )
}

/**
 * Answers a streaming method over SSE. The first event is awaited before the headers go out, so a call
 * refused before any event (or with an error) gets a plain JSON-RPC error, as the SDK's own server does.
 */
async function streamAnswer(
  c: Context<GatewayEnv>,
  events: AsyncGenerator<JsonRpcResponse, void, undefined>,
  id: unknown,
  errorOf: (error: unknown) => JsonRpcError,
  alwaysSse: boolean,
): Promise<Response> {
  let first: IteratorResult<JsonRpcResponse, void> | undefined
  if (!alwaysSse) {
    try {
      first = await events.next()
    } catch (error) {
      return c.json(jsonRpcErrorResponse(id, errorOf(error)))
    }
    if (first.done === true)
      return c.json(jsonRpcErrorResponse(id, errorOf(new Error('the task produced no event'))))
  }
  const encoder = new TextEncoder()
  let pending = first
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? (await events.next())
        pending = undefined
        if (next.done === true) {
          controller.close()
          return
        }
        controller.enqueue(encoder.encode(formatSSEEvent(next.value)))
      } catch (error) {
        controller.enqueue(encoder.encode(formatSSEErrorEvent(jsonRpcErrorResponse(id, errorOf(error)))))
        controller.close()
      }
    },
    async cancel() {
      // The caller went away: the task goes on (it can be read or resubscribed), this reader stops.
      await events.return(undefined)
    },
  })
  return new Response(body, { status: 200, headers: SSE_HEADERS })
}
