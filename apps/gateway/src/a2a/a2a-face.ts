import { type AgentCard, formatSSEEvent, SSE_HEADERS } from '@a2a-js/sdk'
import {
  DefaultExecutionEventBusManager,
  type DefaultRequestHandler,
  ServerCallContext,
} from '@a2a-js/sdk/server'
import type { AgentSummary, ErrorBody } from '@parley/protocol'
import type { Context } from 'hono'
import type { Logger } from 'pino'
import type { AccessParty } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { Principal } from '../auth/auth-provider.js'
import type { Authenticate } from '../auth/authenticator.js'
import { NODE_TTL_MS } from '../cluster/cluster-node.js'
import type { GatewayConfig } from '../config.js'
import { httpAuthRequest, refusedResponse } from '../http/bearer-auth.js'
import type { ClientAddressResolver } from '../http/client-address.js'
import type { GatewayEnv } from '../http/create-app.js'
import { traceContextOfHeaders } from '../tracing/http-trace-context.js'
import { type A2aOperation, recordA2aCall } from './a2a-audit.js'
import { buildAgentCard, cardSecurity } from './a2a-card.js'
import type { CardSigningKey } from './a2a-card-signing.js'
import {
  type A2aBus,
  ClusterRequestHandler,
  createCancelRelay,
  createOrphanedTaskSweeper,
} from './a2a-cluster.js'
import { type A2aAgentCalls, a2aCallOf, createA2aExecutor, setA2aCall } from './a2a-executor.js'
import { createPublicBaseUrl } from './a2a-public-url.js'
import type { A2aPush } from './a2a-push.js'
import type { A2aTaskStore } from './a2a-task-store.js'

export interface A2aFaceDeps {
  config: GatewayConfig
  gatewayVersion: string
  /** Checks the bearer credential like a connection's (any role). */
  authenticate: Authenticate
  /** The caller's address (trusted proxies, the dashboard's relay), as every HTTP entry path counts it. */
  clientAddress: ClientAddressResolver
  agents: A2aAgentCalls & {
    /** The agents the caller may `request`. */
    listFor(caller: AccessParty, capability?: string): Promise<AgentSummary[]>
    /** Every known agent, inactive ones included. */
    listAll(capability?: string): Promise<AgentSummary[]>
    /** One known agent, active or not (re-reads the cluster's directory only when it is missing here). */
    known(agentId: string): Promise<AgentSummary | undefined>
  }
  tasks: A2aTaskStore
  /** Push notifications: the SDK's config store and sender (`a2a-push.ts`). */
  push: Pick<A2aPush, 'store' | 'sender' | 'statusStored'>
  audit: Pick<ConnectionAudit, 'record'>
  /** The cluster bus: cancels cross to the node running the task; the node list tells which nodes are gone. */
  bus: A2aBus
  /** The card-signing key, once the gateway started (derived from the pairing secret). */
  cardKey: () => CardSigningKey | undefined
  logger: Logger
}

/** One A2A call, ready for a transport handler: the SDK context and request handler with the live card. */
export interface OpenedCall {
  context: ServerCallContext
  handler: DefaultRequestHandler
  card: AgentCard
  /** The gateway's refusal of the call (access, no route, limits), once the executor met it. */
  refusal(): ErrorBody | undefined
  /** The task the call created (a message), once the executor started it. */
  taskId(): string | undefined
}

export function partyOf(principal: Principal): AccessParty {
  return { principal: principal.id, role: principal.role }
}

/**
 * What the A2A bindings (JSON-RPC, HTTP+JSON) share: who the caller is, which agent it names, the body read
 * within `maxPayload`, and a call opened on the SDK's `DefaultRequestHandler` whose executor goes through the
 * agent layer. The card (and with it the handler) is built per call from the live registry; the task store,
 * the executor and the event buses are shared.
 */
export function createA2aFace(deps: A2aFaceDeps) {
  const { config } = deps
  const { executor, cancelHere, runsHere } = createA2aExecutor({
    agents: deps.agents,
    logger: deps.logger,
    nodeId: deps.bus.nodeId,
    maxInFlightPerPrincipal: config.agents.maxInFlightPerConnection,
  })
  const cancels = createCancelRelay({ bus: deps.bus, cancelHere, logger: deps.logger })
  const orphans = createOrphanedTaskSweeper({
    tasks: () => deps.tasks.durable(),
    bus: deps.bus,
    runsHere,
    intervalMs: config.a2a.orphanSweepInterval * 1000,
    graceMs: NODE_TTL_MS,
    logger: deps.logger,
    failed: (task, payload) => deps.push.statusStored(task, payload),
  })
  const buses = new DefaultExecutionEventBusManager()
  const baseUrl = createPublicBaseUrl({
    publicUrl: config.pairing.publicUrl,
    trustedProxies: config.trustedProxies,
  })
  const security = cardSecurity({
    ...(config.jwt.issuer === undefined ? {} : { jwtIssuer: config.jwt.issuer }),
    ...(config.a2a.oauthTokenUrl === undefined ? {} : { oauthTokenUrl: config.a2a.oauthTokenUrl }),
  })

  return {
    tasks: deps.tasks,
    /** Fails the tasks of gone nodes, at start-up and periodically (`a2a-cluster.ts`). */
    orphans,
    cardKey: deps.cardKey,
    baseUrl,

    /** The authenticated principal, or the 401 / 429 / 503 answer. */
    async principalOf(c: Context<GatewayEnv>): Promise<Principal | Response> {
      const outcome = await deps.authenticate(httpAuthRequest(c, deps.clientAddress), { surface: 'a2a' })
      return outcome.ok ? outcome.principal : refusedResponse(c, outcome, 'parley')
    },

    /**
     * Starts the `a2a` audit row of a call: the returned function writes it (once) with the latency so far,
     * the task id known by then and the error, if any.
     */
    auditCall(
      principal: Principal,
      agentId: string,
      operation: () => A2aOperation,
      taskId: () => string | undefined,
    ) {
      const startedAt = Date.now()
      let written = false
      return (error?: { code: string }) => {
        if (written) return
        written = true
        recordA2aCall(deps.audit, {
          principal,
          agentId,
          operation: operation(),
          taskId: taskId(),
          startedAt,
          ...(error === undefined ? {} : { error }),
        })
      }
    },

    /** A known agent (active or not), whatever the caller may do with it: access is decided per call. */
    async knownAgent(agentId: string): Promise<AgentSummary | undefined> {
      return deps.agents.known(agentId)
    },

    /** The agents the caller may `request`. */
    reachable: (principal: Principal) => deps.agents.listFor(partyOf(principal)),

    /** The body as text, or undefined when it is larger than `maxPayload`. */
    async readBody(c: Context<GatewayEnv>): Promise<string | undefined> {
      if (Number(c.req.header('content-length') ?? '0') > config.maxPayload) return undefined
      const text = await c.req.text()
      return Buffer.byteLength(text) > config.maxPayload ? undefined : text
    },

    card: (c: Context<GatewayEnv>, agent: AgentSummary): AgentCard =>
      buildAgentCard(agent, baseUrl(c), deps.gatewayVersion, security),

    open(
      c: Context<GatewayEnv>,
      principal: Principal,
      agent: AgentSummary,
      options: { streaming: boolean; requestedVersion: string | undefined },
    ): OpenedCall {
      const card = buildAgentCard(agent, baseUrl(c), deps.gatewayVersion, security)
      const context = new ServerCallContext({
        user: { isAuthenticated: true, userName: principal.id },
        ...(options.requestedVersion === undefined ? {} : { requestedVersion: options.requestedVersion }),
      })
      setA2aCall(context, {
        agentId: agent.agentId,
        principal,
        streaming: options.streaming,
        trace: traceContextOfHeaders(principal, c.req.raw.headers),
      })
      return {
        context,
        card,
        handler: new ClusterRequestHandler(
          cancels.announce,
          card,
          deps.tasks,
          executor,
          buses,
          deps.push.store,
          deps.push.sender,
        ),
        refusal: () => a2aCallOf(context)?.refusal,
        taskId: () => a2aCallOf(context)?.taskId,
      }
    },
  }
}

export type A2aFace = ReturnType<typeof createA2aFace>

/**
 * Answers a streaming call over SSE. The first event is awaited before the headers go out, so a call refused
 * before any event (or failing at once) gets the binding's plain error answer, as the SDK's own server does.
 */
export async function sseAnswer<T>(
  events: AsyncGenerator<T, void, undefined>,
  options: {
    /** The event as the SSE `data` JSON. */
    serialize: (event: T) => unknown
    /** The answer when the stream fails before its first event (or has none). */
    failedAtOnce: (error: unknown) => Response
    /** The last SSE event when the stream fails later. */
    failedEvent: (error: unknown) => string
    /** Open the SSE stream even before the first event (v0.3 `tasks/resubscribe`). */
    alwaysSse?: boolean
    /** Called once when the stream ended, failed (with the error) or its reader went away. */
    finished?: (error?: unknown) => void
    /** The SSE `id` of an event: the task's sequence number, which a reader resumes from (`Last-Event-ID`). */
    eventId?: (event: T) => number | undefined
    /**
     * The events are the task's only writer (a sent stream: the SDK stores each event as it is read): when the
     * reader goes away they are read on to the end, so the task is stored whole and can be resubscribed.
     */
    drainOnCancel?: boolean
  },
): Promise<Response> {
  let ended = false
  const finished = (error?: unknown) => {
    if (ended) return
    ended = true
    options.finished?.(error)
  }
  let pending: IteratorResult<T, void> | undefined
  if (options.alwaysSse !== true) {
    try {
      pending = await events.next()
    } catch (error) {
      finished(error)
      return options.failedAtOnce(error)
    }
    if (pending.done === true) {
      const error = new Error('the task produced no event')
      finished(error)
      return options.failedAtOnce(error)
    }
  }
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? (await events.next())
        pending = undefined
        if (next.done === true) {
          finished()
          controller.close()
          return
        }
        const id = options.eventId?.(next.value)
        const text = formatSSEEvent(options.serialize(next.value))
        controller.enqueue(encoder.encode(id === undefined ? text : `id: ${id}\n${text}`))
      } catch (error) {
        finished(error)
        controller.enqueue(encoder.encode(options.failedEvent(error)))
        controller.close()
      }
    },
    async cancel() {
      finished()
      if (options.drainOnCancel === true) {
        // The caller went away: the task goes on and is stored whole, to be read or resubscribed.
        void drain(events)
        return
      }
      await events.return(undefined)
    },
  })
  return new Response(body, { status: 200, headers: SSE_HEADERS })
}

async function drain<T>(events: AsyncGenerator<T, void, undefined>): Promise<void> {
  try {
    for (;;) if ((await events.next()).done === true) return
  } catch {
    // The task's failure is in the store already (the SDK stores a failed status); nobody reads this stream.
  }
}
