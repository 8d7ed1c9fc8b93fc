import { A2A_VERSION_HEADER, formatSSEErrorEvent } from '@a2a-js/sdk'
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server'
import { JsonRpcTransportHandler, validateVersion } from '@a2a-js/sdk/server'
import { errorBody } from '@parley/protocol'
import type { Context } from 'hono'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import type { A2aDirectory } from '../openapi/interop-schemas.js'
import { a2aOperation } from './a2a-audit.js'
import { a2aCardUrl, agentCardJson, legacyAgentCardJson } from './a2a-card.js'
import { A2A_JWKS_PATH, signAgentCard, signLegacyCardJson } from './a2a-card-signing.js'
import {
  JSON_RPC_PARSE_ERROR,
  type JsonRpcError,
  jsonRpcErrorResponse,
  jsonRpcId,
  jsonRpcRefusal,
} from './a2a-errors.js'
import { type A2aFaceDeps, createA2aFace, type OpenedCall, sseAnswer } from './a2a-face.js'
import { registerA2aRestRoutes } from './a2a-rest-routes.js'
import { followTask, lastEventId, taskIdOfResponse } from './a2a-subscribe.js'

export type A2aRoutesDeps = A2aFaceDeps

/** The methods (v1.0, v0.3) whose message reaches the agent as a Parley stream. */
const SENDS_A_STREAM = new Set(['SendStreamingMessage', 'message/stream'])

type JsonRpcResponse = { jsonrpc: string; id: string | number | null; result?: unknown; error?: unknown }

function isAsyncIterable(value: unknown): value is AsyncGenerator<JsonRpcResponse, void, undefined> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === 'function'
}

/**
 * The A2A face: `GET /a2a` (the agents the caller may reach, with their card URLs), each agent's card at
 * `/a2a/{agentId}/.well-known/agent-card.json` (and the older `agent.json`), its JSON-RPC endpoint
 * `POST /a2a/{agentId}` for v1.0 callers (`A2A-Version: 1.0`) and v0.3 callers (no header), and its HTTP+JSON
 * binding under `/a2a/{agentId}/` (`a2a-rest-routes.ts`). The SDK's transport handlers and
 * `DefaultRequestHandler` speak the protocol; the executor hands each message to the agent layer, which
 * decides access, routes and audits like for any connection.
 */
export function registerA2aRoutes(app: GatewayApp, deps: A2aRoutesDeps) {
  const face = createA2aFace(deps)
  const { config, logger } = deps

  app.get('/a2a', async (c) => {
    const principal = await face.principalOf(c)
    if (principal instanceof Response) return principal
    const base = face.baseUrl(c)
    const agents = await face.reachable(principal)
    const body: A2aDirectory = {
      agents: agents.map((agent) => ({
        agentId: agent.agentId,
        status: agent.status,
        capabilities: agent.capabilities,
        cardUrl: a2aCardUrl(base, agent.agentId),
      })),
    }
    return c.json(body)
  })

  async function serveCard(c: Context<GatewayEnv>): Promise<Response> {
    const principal = await face.principalOf(c)
    if (principal instanceof Response) return principal
    const agentId = c.req.param('agentId') ?? ''
    // Only the agents the caller may reach: a card of any other answers like an unknown agent.
    const agent = (await face.reachable(principal)).find((summary) => summary.agentId === agentId)
    if (agent === undefined) return errorResponse(c, 'not_found', `no agent ${agentId} reachable over A2A`)
    c.header('Cache-Control', 'no-cache')
    c.header('Vary', A2A_VERSION_HEADER)
    const key = face.cardKey()
    const unsigned = face.card(c, agent)
    // A caller without `A2A-Version` speaks v0.3 and reads the v0.3 card shape, signed over that shape.
    const version = c.req.header(A2A_VERSION_HEADER)
    if (version === undefined || version === '0.3') {
      const legacy = (await legacyAgentCardJson(unsigned)) as Record<string, unknown>
      return c.json(key === undefined ? legacy : await signLegacyCardJson(legacy, key, face.baseUrl(c)))
    }
    const card = key === undefined ? unsigned : await signAgentCard(unsigned, key, face.baseUrl(c))
    return c.json(agentCardJson(card) as object)
  }
  // The public key of the card signatures: public, as verifiers fetch it with no gateway credential.
  app.get(A2A_JWKS_PATH, (c) => {
    const key = face.cardKey()
    c.header('Cache-Control', 'public, max-age=300')
    return c.json({ keys: key === undefined ? [] : [key.publicJwk] })
  })
  app.get('/a2a/:agentId/.well-known/agent-card.json', serveCard)
  app.get('/a2a/:agentId/.well-known/agent.json', serveCard)

  app.post('/a2a/:agentId', async (c) => {
    const principal = await face.principalOf(c)
    if (principal instanceof Response) return principal
    const agentId = c.req.param('agentId')
    let operation = a2aOperation(undefined)
    let namedTask: string | undefined
    let call: OpenedCall | undefined
    /** One `a2a` audit row per call, when it is answered (a stream: when it ends). */
    const record = face.auditCall(
      principal,
      agentId,
      () => operation,
      () => call?.taskId() ?? namedTask,
    )
    const audited = (answer: Response, error?: { code: string }): Response => {
      record(error)
      return answer
    }
    const rpcError = (id: unknown, error: JsonRpcError) =>
      audited(c.json(jsonRpcErrorResponse(id, error)), { code: call?.refusal()?.code ?? String(error.code) })

    const text = await face.readBody(c)
    if (text === undefined) return rpcError(null, tooLarge(config.maxPayload))
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return rpcError(null, { code: JSON_RPC_PARSE_ERROR, message: 'Invalid JSON payload.' })
    }
    const { id, method, params } = (typeof body === 'object' && body !== null ? body : {}) as {
      id?: unknown
      method?: unknown
      params?: { id?: unknown; taskId?: unknown }
    }
    operation = a2aOperation(method)
    // v1.0 push-config calls name the task `taskId` (their `id` is the config's); the others name it `id`.
    if (typeof params?.taskId === 'string') namedTask = params.taskId
    else if (typeof params?.id === 'string') namedTask = params.id
    const requestedVersion = c.req.header(A2A_VERSION_HEADER) || undefined
    const legacy = requestedVersion === undefined || requestedVersion === '0.3'
    const mapError = legacy
      ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError
      : JsonRpcTransportHandler.mapToJSONRPCError
    const agent = await face.knownAgent(agentId)
    if (agent === undefined) return rpcError(id, jsonRpcRefusal(errorBody('no_route', `no agent ${agentId}`)))

    const opened = face.open(c, principal, agent, {
      streaming: typeof method === 'string' && SENDS_A_STREAM.has(method),
      requestedVersion,
    })
    call = opened
    /** The gateway's refusal (access, no route, limits) replaces the SDK's generic error for the same call. */
    const errorOf = (error: unknown): JsonRpcError => {
      const refusal = opened.refusal()
      return refusal === undefined ? (mapError(error) as JsonRpcError) : jsonRpcRefusal(refusal)
    }
    try {
      validateVersion(opened.context.requestedVersion, opened.card, 'JSONRPC')
      if (!legacy && method === 'SubscribeToTask') {
        const events = followTask(
          deps.tasks,
          namedTask ?? '',
          { owner: principal.id, agentId },
          lastEventId(c.req.header('last-event-id')),
        )
        return await sseAnswer(events, {
          serialize: (event) => ({ jsonrpc: '2.0', id: jsonRpcId(id), result: event.response }),
          eventId: (event) => event.seq,
          failedAtOnce: (error) => rpcError(id, errorOf(error)),
          failedEvent: (error) => formatSSEErrorEvent(jsonRpcErrorResponse(id, errorOf(error))),
          finished: (error) =>
            record(error === undefined ? undefined : { code: String(errorOf(error).code) }),
        })
      }
      const transport = legacy
        ? new LegacyJsonRpcTransportHandler(opened.handler)
        : new JsonRpcTransportHandler(opened.handler)
      const answer = await transport.handle(body as Record<string, unknown>, opened.context)
      if (!isAsyncIterable(answer)) {
        if (answer.error === undefined) return audited(c.json(answer))
        const refusal = opened.refusal()
        return rpcError(id, refusal === undefined ? (answer.error as JsonRpcError) : jsonRpcRefusal(refusal))
      }
      return await sseAnswer(answer, {
        serialize: (event) => event,
        failedAtOnce: (error) => c.json(jsonRpcErrorResponse(id, errorOf(error))),
        failedEvent: (error) => formatSSEErrorEvent(jsonRpcErrorResponse(id, errorOf(error))),
        alwaysSse: legacy && method === 'tasks/resubscribe',
        drainOnCancel: typeof method === 'string' && SENDS_A_STREAM.has(method),
        eventId: (event) => {
          const taskId = taskIdOfResponse(event.result)
          return taskId === undefined ? undefined : deps.tasks.lastSeq(taskId)
        },
        finished: (error) =>
          record(
            error === undefined ? undefined : { code: opened.refusal()?.code ?? String(errorOf(error).code) },
          ),
      })
    } catch (error) {
      logger.debug({ err: error, agentId, method }, 'A2A call failed')
      return rpcError(id, errorOf(error))
    }
  })

  registerA2aRestRoutes(app, face)
  // Started once the storage is open: the sweep reads the task store.
  return { start: () => face.orphans.start(), stop: () => face.orphans.stop() }
}

function tooLarge(limit: number): JsonRpcError {
  return jsonRpcRefusal(
    errorBody('payload_too_large', `the request body is larger than ${limit} bytes (maxPayload)`),
  )
}
