import type {
  AgentInstance,
  AgentRegisterFrame,
  AgentSummary,
  AgentTarget,
  ClientFrame,
  RequestFrame,
  RespondFrame,
  StreamOpenFrame,
} from '@parley/protocol'
import { errorBody } from '@parley/protocol'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { ClusterBus } from '../bus/types.js'
import type { ExchangeCapture } from '../capture/exchange-capture.js'
import type { GatewayConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import type { Connection } from '../peers/connection.js'
import { type GatewayTracing, noTracing } from '../tracing/gateway-tracing.js'
import { createAgentActivity } from './agent-activity.js'
import { recordAgentAudit } from './agent-audit.js'
import {
  type AgentConnection,
  type AgentReach,
  capabilityInfoOf,
  createAgentDirectory,
  reservedCapabilityProblem,
} from './agent-directory.js'
import { createAgentRequests } from './agent-requests.js'
import { type AgentCaller, routeParty } from './agent-routing.js'
import { type AgentSendsOptions, createAgentSends } from './agent-sends.js'
import { createAgentStreams, type StreamFrame } from './agent-streams.js'
import { allowAllAccess } from './allow-all-access.js'
import { capabilitySchemaProblem } from './capability-schemas.js'
import type { AccessParty, AgentAccess } from './types.js'

/** The agent frames this layer answers (introductions, signals and shared state are handled elsewhere). */
export const AGENT_LAYER_FRAMES = new Set([
  'agent_register',
  'agent_unregister',
  'agents_list',
  'request',
  'respond',
  'stream_open',
  'stream_chunk',
  'stream_credit',
  'stream_end',
  'stream_error',
  'stream_abort',
  'agent_send',
] as const)

export type AgentLayerFrame = Extract<
  ClientFrame,
  { type: typeof AGENT_LAYER_FRAMES extends Set<infer T> ? T : never }
>

export function isAgentLayerFrame(frame: ClientFrame): frame is AgentLayerFrame {
  return (AGENT_LAYER_FRAMES as ReadonlySet<string>).has(frame.type)
}

export interface AgentLayerOptions {
  config: GatewayConfig
  bus: ClusterBus
  logger: Logger
  audit: ConnectionAudit
  /** Policies and grants; allow-all until they are wired in. */
  access?: () => AgentAccess
  deliveries: AgentSendsOptions['deliveries']
  /** Payload capture of requests and streams (conversation replay); off when absent. */
  capture?: ExchangeCapture
  tracing?: GatewayTracing
}

/**
 * The agent layer of one node: the directory, request / response, streams and `agent_send`, wired together.
 * The hub hands it the agent frames of welcomed connections and tells it when a connection goes.
 */
export function createAgentLayer(options: AgentLayerOptions) {
  const { config, audit } = options
  const logger = options.logger
  const access = options.access ?? (() => allowAllAccess)
  const directory = createAgentDirectory({
    bus: options.bus,
    logger,
    agentTimeoutMs: config.agentTimeout * 1000,
  })
  const activity = createAgentActivity()
  const tracing = options.tracing ?? noTracing
  const shared = {
    config,
    directory,
    access,
    audit,
    logger,
    activity,
    tracing,
    ...(options.capture === undefined ? {} : { capture: options.capture }),
  }
  const requests = createAgentRequests(shared)
  const streams = createAgentStreams(shared)
  const sends = createAgentSends({ directory, access, audit, deliveries: options.deliveries, tracing })

  directory.onGone((route) => {
    requests.instanceGone(route)
    streams.instanceGone(route)
  })
  directory.onAnswer((instanceId, frame) => {
    if (frame.type === 'respond') requests.respond(instanceId, frame as unknown as RespondFrame)
    else streams.fromRemoteAgent(instanceId, frame as unknown as StreamFrame)
  })

  function respond(connection: AgentConnection, frame: RespondFrame): void {
    const own = directory.byConnection(connection.id)
    if (own !== undefined && requests.respond(own.instanceId, frame)) return
    if (directory.forwardAnswer(connection, frame.correlationId, frame)) return
    // Late (after a timeout or failover) or unknown: nobody waits for it any more.
    logger.debug(
      { connectionId: connection.id, correlationId: frame.correlationId },
      'dropped a respond nobody waits for',
    )
  }

  /**
   * Runs `task` once the directory knows the target: when no instance matches (or for a broadcast), another
   * node's agent may have registered since the last refresh, so the directory is re-read first.
   */
  function withRoutes(connection: AgentConnection, target: AgentTarget, task: () => void | Promise<void>) {
    const broadcast = typeof target === 'object' && 'broadcast' in target
    if (!directory.clustered() || (!broadcast && directory.resolve(target).length > 0)) {
      const result = task()
      return result instanceof Promise ? result : undefined
    }
    return directory
      .refresh()
      .catch((error: unknown) => logger.debug({ err: error }, 'agent directory read failed'))
      .then(() => (connection.isOpen ? task() : undefined))
  }

  /** Agents the caller may `request`, cluster-wide, as `AgentSummary` lists. */
  function listFor(caller: AccessParty, capability?: string): Promise<AgentSummary[]> {
    const check = access()
    return directory.summaries(
      capability,
      (instance: AgentInstance) =>
        check.check({
          action: 'request',
          caller,
          target: {
            principal: instance.principal,
            clientId: instance.clientId,
            agentId: instance.agentId,
            capabilities: instance.capabilities,
          },
        }).allowed,
    )
  }

  return {
    directory,
    /** Handles one agent frame of a welcomed connection; may return a promise for the hub to watch. */
    handle(connection: Connection, frame: AgentLayerFrame, size: number): Promise<void> | undefined {
      switch (frame.type) {
        case 'agent_register': {
          const problem =
            reservedCapabilityProblem(frame.capabilities) ??
            capabilitySchemaProblem(capabilityInfoOf(frame.capabilities))
          if (problem !== undefined) {
            connection.sendError(errorBody('invalid_frame', problem), frame.id)
            return undefined
          }
          const route = directory.register(connection, frame)
          connection.sendFrame({
            type: 'reply',
            id: frame.id,
            result: {
              agentId: route.agentId,
              instanceId: route.instanceId,
              capabilities: [...route.capabilities],
            },
          })
          recordAgentAudit(audit, {
            kind: 'agent',
            outcome: 'ok',
            subject: connection,
            target: route.agentId,
            detail: `registered ${route.instanceId} capabilities=${route.capabilities.join(',')}`,
          })
          return undefined
        }
        case 'agent_unregister': {
          const route = directory.unregister(connection)
          if (route === undefined) {
            connection.sendError(
              errorBody('invalid_state', 'this connection is not registered as an agent'),
              frame.id,
            )
            return undefined
          }
          connection.sendFrame({ type: 'reply', id: frame.id, result: { agentId: route.agentId } })
          recordAgentAudit(audit, {
            kind: 'agent',
            outcome: 'ok',
            subject: connection,
            target: route.agentId,
            detail: `unregistered ${route.instanceId}`,
          })
          return undefined
        }
        case 'agents_list': {
          const own = directory.byConnection(connection.id)
          const caller: AccessParty =
            own === undefined
              ? {
                  principal: connection.principal,
                  role: connection.role,
                  clientId: connection.clientId,
                }
              : routeParty(own)
          return listFor(caller, frame.capability).then((agents) => {
            connection.sendFrame({ type: 'reply', id: frame.id, result: { agents } })
          })
        }
        case 'request':
          return withRoutes(connection, frame.target, () => requests.request(connection, frame, size))
        case 'respond':
          respond(connection, frame)
          return undefined
        case 'stream_open':
          return withRoutes(connection, frame.target, () => streams.open(connection, frame))
        case 'stream_chunk':
        case 'stream_credit':
        case 'stream_end':
        case 'stream_error':
        case 'stream_abort':
          streams.fromConnection(connection, frame)
          return undefined
        case 'agent_send':
          return withRoutes(connection, frame.target, () => sends.send(connection, frame, size))
      }
    },
    /**
     * A request or stream from a caller that is not a hub connection (the A2A face): the same access,
     * routing, balancing, failover, timeouts and audit as a connection's frames; answers come back through
     * `caller.sendFrame`, and `connectionClosed(caller)` drops what is still open.
     */
    handleFrom(
      caller: AgentCaller,
      frame: RequestFrame | StreamOpenFrame | StreamFrame,
      size: number,
    ): Promise<void> | undefined {
      if (frame.type === 'request')
        return withRoutes(caller, frame.target, () => requests.request(caller, frame, size))
      if (frame.type === 'stream_open')
        return withRoutes(caller, frame.target, () => streams.open(caller, frame))
      streams.fromConnection(caller, frame)
      return undefined
    },
    /**
     * Registers an in-process instance (`hostAgent`: an external A2A agent or an MCP upstream) as an instance:
     * the same schema checks and audit as `agent_register`. Throws `GatewayError` when refused.
     */
    registerHosted(connection: AgentConnection, frame: AgentRegisterFrame, reach: AgentReach) {
      const problem = capabilitySchemaProblem(capabilityInfoOf(frame.capabilities))
      if (problem !== undefined) throw new GatewayError('invalid_frame', problem)
      const route = directory.register(connection, frame, reach)
      recordAgentAudit(audit, {
        kind: 'agent',
        outcome: 'ok',
        subject: connection,
        target: route.agentId,
        detail: `registered ${route.instanceId} (${reach.kind}) capabilities=${route.capabilities.join(',')}`,
      })
      return route
    },
    /** An in-process instance leaves at once (no `inactive` period): its requests fail over. */
    unregisterHosted(connection: AgentConnection): void {
      const route = directory.unregister(connection)
      if (route === undefined) return
      requests.instanceGone(route)
      streams.instanceGone(route)
    },
    /** An in-process instance answers: `respond`, or a frame of a stream it serves. */
    answerFrom(connection: AgentCaller, frame: RespondFrame | StreamFrame): void {
      if (frame.type === 'respond') respond(connection, frame)
      else streams.fromConnection(connection, frame)
    },
    /** The caller of `handleFrom` gave up on its request `requestId`: the agent is told (`request_cancel`). */
    cancelFrom: (caller: AgentCaller, requestId: string, reason: string) =>
      requests.cancel(caller, requestId, reason),
    /** A connection closed (or stopped heartbeating): its requests, streams and instance go. */
    connectionClosed(connection: AgentCaller): void {
      requests.connectionClosed(connection)
      streams.connectionClosed(connection)
      directory.connectionClosed(connection)
    },
    listFor,
    /** Every agent, inactive ones included (admin). */
    listAll: (capability?: string) => directory.summaries(capability),
    /** One known agent (active or not), from this node's view; the bus is re-read only when it is missing. */
    known: (agentId: string) => directory.known(agentId),
    /** Active instances cluster-wide, as this node knows them (`/health` `connected_agents`). */
    activeCount: () => directory.activeCount(),
    stats() {
      return { ...requests.stats(), ...streams.stats(), activeAgents: directory.activeCount() }
    },
    /** Finished requests, for the metrics. */
    activity,
    start: () => directory.start(),
    stop: () => directory.stop(),
  }
}

export type AgentLayer = ReturnType<typeof createAgentLayer>
export type AgentLayerStats = ReturnType<AgentLayer['stats']>
