import type { Span } from '@opentelemetry/api'
import {
  type AgentFailure,
  errorBody,
  type ServerFrame,
  type StreamAbortFrame,
  type StreamChunkFrame,
  type StreamCreditFrame,
  type StreamEndFrame,
  type StreamErrorFrame,
  type StreamOpenFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { ExchangeCapture } from '../capture/exchange-capture.js'
import type { GatewayConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import { newId, newTraceId } from '../ids.js'
import { spanRouted, startInvokeAgentSpan } from '../tracing/agent-spans.js'
import {
  endSpan,
  type GatewayTracing,
  noTracing,
  traceContextOf,
  traceIdOf,
} from '../tracing/gateway-tracing.js'
import type { AgentActivity } from './agent-activity.js'
import { recordAgentAudit } from './agent-audit.js'
import type { RegisteredAgentDirectory } from './agent-directory.js'
import {
  type AgentCaller,
  auditDenial,
  callerOf,
  chooseAllowed,
  denialError,
  noRouteError,
  sendError,
  targetName,
} from './agent-routing.js'
import type { AgentAccess, AgentRoute } from './types.js'

/** Credit the opener grants when `stream_open` names none. */
export const DEFAULT_STREAM_CREDIT = 16

export type StreamFrame =
  | StreamChunkFrame
  | StreamCreditFrame
  | StreamEndFrame
  | StreamErrorFrame
  | StreamAbortFrame

/** One direction of a stream: what its receiver granted and what its sender sent. */
interface Direction {
  /** Credit granted by the receiver so far (the initial credit included). */
  granted: number
  /** The receiver's initial credit. */
  initial: number
  /** Chunks forwarded to the receiver (also the last `seq`). */
  forwarded: number
  ended: boolean
}

interface OpenStream {
  streamId: string
  opener: AgentCaller
  route: AgentRoute
  /** Agent → opener: credit granted by the opener. */
  toOpener: Direction
  /** Opener → agent: credit granted by the agent. */
  toAgent: Direction
  openedAt: number
  traceId: string
  /** The gateway's `invoke_agent` span, open for the stream's life (tracing on only). */
  span: Span | undefined
}

type Side = 'opener' | 'agent'

export interface AgentStreamsOptions {
  config: GatewayConfig
  directory: RegisteredAgentDirectory
  access: () => AgentAccess
  audit: ConnectionAudit
  logger: Logger
  /** Payload capture (conversation replay); off when absent. */
  capture?: ExchangeCapture
  /** Told of every chunk relayed (the metrics). */
  activity?: AgentActivity
  tracing?: GatewayTracing
}

/**
 * Streams between an opener and an agent instance, held on the opener's node. Chunks are forwarded at once
 * and only within the receiver's credit, which is capped at `agents.streamWindow`: the chunks a receiver has
 * been sent but not yet confirmed (by granting more credit) never exceed its window, and a sender that goes
 * beyond its credit ends the stream with `flow_control`.
 */
export function createAgentStreams(options: AgentStreamsOptions) {
  const { config, directory, audit, logger, capture, activity } = options
  const tracing = options.tracing ?? noTracing
  const window = config.agents.streamWindow
  const streams = new Map<string, OpenStream>()
  const byOpener = new Map<string, Set<string>>()
  const byInstance = new Map<string, Set<string>>()

  function index(map: Map<string, Set<string>>, key: string, id: string): void {
    const set = map.get(key)
    if (set === undefined) map.set(key, new Set([id]))
    else set.add(id)
  }

  function unindex(map: Map<string, Set<string>>, key: string, id: string): void {
    const set = map.get(key)
    set?.delete(id)
    if (set?.size === 0) map.delete(key)
  }

  function direction(initial: number): Direction {
    return { granted: initial, initial, forwarded: 0, ended: false }
  }

  /** Chunks sent to the receiver that it has not yet confirmed by granting more credit. */
  function unconfirmed(of: Direction): number {
    return Math.max(0, of.forwarded - (of.granted - of.initial))
  }

  function sendTo(stream: OpenStream, side: Side, frame: ServerFrame): void {
    if (side === 'opener') stream.opener.sendFrame(frame)
    else directory.deliver(stream.route.instanceId, frame)
  }

  function close(stream: OpenStream, outcome: 'ok' | 'error', detail: string, informAgentNode = true): void {
    if (streams.get(stream.streamId) !== stream) return
    streams.delete(stream.streamId)
    unindex(byOpener, stream.opener.id, stream.streamId)
    unindex(byInstance, stream.route.instanceId, stream.streamId)
    directory.release(stream.route.instanceId)
    if (informAgentNode) directory.forget(stream.route, stream.streamId)
    capture?.end(stream.streamId)
    endSpan(stream.span, outcome === 'ok' ? 'ok' : detail)
    recordAgentAudit(audit, {
      kind: 'stream',
      outcome,
      subject: stream.opener,
      target: stream.route.agentId,
      correlationId: stream.streamId,
      latencyMs: Date.now() - stream.openedAt,
      traceId: stream.traceId,
      detail: `closed ${detail} chunks=${stream.toOpener.forwarded + stream.toAgent.forwarded}`,
    })
  }

  /** Ends the stream on both sides with a `stream_error` the gateway raised. */
  function fault(stream: OpenStream, error: AgentFailure): void {
    const frame: ServerFrame = { type: 'stream_error', streamId: stream.streamId, error }
    capture?.step(stream.streamId, 'error', error)
    sendTo(stream, 'opener', frame)
    sendTo(stream, 'agent', frame)
    close(stream, 'error', error.code)
  }

  /** A frame from one side of a stream, relayed to the other within the rules. */
  function relay(stream: OpenStream, from: Side, frame: StreamFrame): void {
    const to: Side = from === 'opener' ? 'agent' : 'opener'
    // Chunks from `from` use the credit `to` granted; credit from `from` is for chunks towards it.
    const outbound = from === 'opener' ? stream.toAgent : stream.toOpener
    const inbound = from === 'opener' ? stream.toOpener : stream.toAgent
    switch (frame.type) {
      case 'stream_chunk': {
        if (outbound.ended) {
          fault(stream, { code: 'invalid_frame', message: `stream_chunk after stream_end from the ${from}` })
          return
        }
        if (frame.seq !== outbound.forwarded + 1) {
          fault(stream, {
            code: 'invalid_frame',
            message: `stream_chunk seq ${frame.seq} from the ${from}; expected ${outbound.forwarded + 1}`,
          })
          return
        }
        if (outbound.forwarded >= outbound.granted) {
          fault(stream, {
            code: 'flow_control',
            message: `the ${from} sent chunk ${frame.seq} beyond the credit the ${to} granted`,
          })
          return
        }
        outbound.forwarded += 1
        capture?.step(
          stream.streamId,
          'chunk',
          frame.data,
          from === 'agent' ? stream.route.instanceId : undefined,
        )
        if (activity?.observed === true)
          activity.streamChunk(stream.route.agentId, to === 'opener' ? 'to_caller' : 'to_agent')
        sendTo(stream, to, frame)
        return
      }
      case 'stream_credit': {
        // Credit beyond the window is cut to it: the gateway never has more than a window on its way. The
        // sender is told the credit that counts, so it never sends a chunk the gateway would refuse.
        const granted = Math.min(inbound.granted + frame.credit, inbound.forwarded + window)
        const added = granted - inbound.granted
        inbound.granted = granted
        if (added > 0) sendTo(stream, to, { ...frame, credit: added })
        return
      }
      case 'stream_end': {
        if (outbound.ended) return
        outbound.ended = true
        // The agent's end is the reply; the opener's says only that it sends no more (captured if it carries data).
        if (from === 'agent') capture?.step(stream.streamId, 'reply', frame.data)
        else if (frame.data !== undefined) capture?.step(stream.streamId, 'chunk', frame.data)
        sendTo(stream, to, frame)
        if (inbound.ended) close(stream, 'ok', 'ended')
        return
      }
      case 'stream_error':
        capture?.step(stream.streamId, 'error', frame.error)
        sendTo(stream, to, frame)
        close(stream, 'error', `error from the ${from}: ${frame.error.code}`, from === 'opener')
        return
      case 'stream_abort':
        sendTo(stream, to, frame)
        close(stream, 'ok', `aborted by the ${from}`, from === 'opener')
        return
    }
  }

  return {
    open(connection: AgentCaller, frame: StreamOpenFrame): void {
      const open = byOpener.get(connection.id)?.size ?? 0
      if (open >= config.agents.maxStreamsPerConnection) {
        throw new GatewayError(
          'rate_limited',
          `${open} streams are already open on this connection (agents.maxStreamsPerConnection)`,
          1_000,
        )
      }
      const span = startInvokeAgentSpan(tracing, frame, { target: frame.target, operation: 'stream' })
      const trace = traceContextOf(span, frame)
      const traceId = frame.traceId ?? traceIdOf(frame) ?? span?.spanContext().traceId ?? newTraceId()
      const from = callerOf(directory, connection)
      const credit = Math.min(frame.credit ?? DEFAULT_STREAM_CREDIT, window)
      // A connection cannot stream to its own instance: both sides' frames would arrive on one connection.
      const own = directory.byConnection(connection.id)?.instanceId
      const tried = new Set<string>(own === undefined ? [] : [own])
      let first = true
      for (;;) {
        const choice = chooseAllowed(directory, options.access(), 'stream', connection, frame.target, tried)
        if (choice.kind === 'denied' && first) {
          auditDenial(audit, 'stream', connection, targetName(frame.target), choice.decision, traceId)
          endSpan(span, choice.decision.code)
          sendError(connection, denialError(choice.decision), frame.id)
          return
        }
        if (choice.kind !== 'route') {
          sendError(
            connection,
            noRouteError(directory, `no active agent for ${targetName(frame.target)}`),
            frame.id,
          )
          endSpan(span, 'no_route')
          return
        }
        const { route } = choice
        tried.add(route.instanceId)
        first = false
        const stream: OpenStream = {
          streamId: newId('str'),
          opener: connection,
          route,
          toOpener: direction(credit),
          toAgent: direction(0),
          openedAt: Date.now(),
          traceId,
          span,
        }
        spanRouted(span, route)
        const delivered = directory.deliver(route.instanceId, {
          type: 'stream_incoming',
          streamId: stream.streamId,
          from,
          data: frame.data,
          credit,
          ...(typeof frame.target === 'string' ? {} : { capability: frame.target.capability }),
          traceId,
          ...trace,
        })
        if (!delivered) continue
        streams.set(stream.streamId, stream)
        index(byOpener, connection.id, stream.streamId)
        index(byInstance, route.instanceId, stream.streamId)
        directory.acquire(route.instanceId)
        connection.sendFrame({
          type: 'reply',
          id: frame.id,
          result: {
            streamId: stream.streamId,
            agentId: route.agentId,
            instanceId: route.instanceId,
            traceId,
          },
        })
        recordAgentAudit(audit, {
          kind: 'stream',
          outcome: 'ok',
          subject: connection,
          target: route.agentId,
          correlationId: stream.streamId,
          traceId,
          detail: 'opened',
        })
        if (capture?.enabled === true) {
          const callerAgentId = directory.byConnection(connection.id)?.agentId
          capture.begin({
            correlationId: stream.streamId,
            caller: callerAgentId ?? connection.clientId,
            callerAgentId,
            agentId: route.agentId,
            instanceId: route.instanceId,
            traceId,
            startedAt: stream.openedAt,
            rule: choice.rule,
            data: frame.data,
          })
        }
        return
      }
    },

    /** A stream frame from a connection on this node: the opener's, or a local agent's. */
    fromConnection(connection: AgentCaller, frame: StreamFrame): void {
      const stream = streams.get(frame.streamId)
      if (stream !== undefined && stream.opener === connection) {
        relay(stream, 'opener', frame)
        return
      }
      const own = directory.byConnection(connection.id)
      if (stream !== undefined && own !== undefined && stream.route.instanceId === own.instanceId) {
        relay(stream, 'agent', frame)
        return
      }
      if (directory.forwardAnswer(connection, frame.streamId, frame)) return
      // Frames racing a close (an abort crossing an end) are expected: no error for a finished stream's end.
      if (frame.type === 'stream_abort' || frame.type === 'stream_error' || frame.type === 'stream_end') {
        logger.debug({ streamId: frame.streamId, type: frame.type }, 'dropped a frame for an unknown stream')
        return
      }
      sendError(connection, errorBody('not_found', `no open stream ${frame.streamId} on this connection`))
    },

    /** A stream frame from an instance on another node (relayed by the directory). */
    fromRemoteAgent(instanceId: string, frame: StreamFrame): void {
      const stream = streams.get(frame.streamId)
      if (stream === undefined || stream.route.instanceId !== instanceId) {
        logger.debug({ streamId: frame.streamId }, 'dropped a relayed frame for an unknown stream')
        return
      }
      relay(stream, 'agent', frame)
    },

    /** The instance went away: its streams' openers get `stream_abort` with reason `peer_gone`. */
    instanceGone(route: AgentRoute): void {
      for (const streamId of [...(byInstance.get(route.instanceId) ?? [])]) {
        const stream = streams.get(streamId)
        if (stream === undefined) continue
        sendTo(stream, 'opener', { type: 'stream_abort', streamId, reason: 'peer_gone' })
        close(stream, 'error', 'agent gone', false)
      }
    },

    /** The opener left: the agents get `stream_abort` with reason `peer_gone`. */
    connectionClosed(connection: AgentCaller): void {
      for (const streamId of [...(byOpener.get(connection.id) ?? [])]) {
        const stream = streams.get(streamId)
        if (stream === undefined) continue
        sendTo(stream, 'agent', { type: 'stream_abort', streamId, reason: 'peer_gone' })
        close(stream, 'error', 'opener gone')
      }
    },

    stats() {
      let bufferedChunks = 0
      let maxBufferedChunks = 0
      for (const stream of streams.values()) {
        for (const of of [stream.toOpener, stream.toAgent]) {
          const held = unconfirmed(of)
          bufferedChunks += held
          maxBufferedChunks = Math.max(maxBufferedChunks, held)
        }
      }
      return { openStreams: streams.size, bufferedChunks, maxBufferedChunks }
    },
  }
}

export type AgentStreams = ReturnType<typeof createAgentStreams>
