import type { AgentRegisterFrame, Caller, CapabilitySpec, RespondFrame, ServerFrame } from '@parley/protocol'
import { newId } from '../ids.js'
import type { AgentReach } from './agent-directory.js'
import type { AgentLayer } from './agent-layer.js'
import type { StreamFrame } from './agent-streams.js'

/** One request or stream as an in-process agent gets it. */
export interface HostedCall {
  /** The request's correlation id or the stream's id. */
  id: string
  data: unknown
  from: Caller
  /** The capability the caller routed by, when it did. */
  capability: string | undefined
  traceId: string
  /** Fires when the caller gives up (cancel, abort, deadline) or the instance closes. */
  signal: AbortSignal
}

/** An agent failure with its code, as the caller gets it (`agent_error`). */
export class HostedAgentFailure extends Error {
  override readonly name = 'HostedAgentFailure'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The instance cannot answer this call (its upstream is unreachable): an idempotent request fails over to another
 * instance, any other fails with `agent_unavailable`. The owner usually closes the instance too.
 */
export class HostedAgentUnavailable extends Error {
  override readonly name = 'HostedAgentUnavailable'
}

export interface HostedAgentHandlers {
  /**
   * Answers a request. Throw `HostedAgentFailure` for an agent error (any other throw is `agent_failed`), or
   * `HostedAgentUnavailable` to hand the request back.
   */
  request(call: HostedCall): Promise<unknown>
  /**
   * Serves a stream: `send` resolves once the caller has credit for the chunk. The return value is the stream's
   * trailer. Without it, a stream gets the request handler's answer as its one chunk.
   */
  stream?(call: HostedCall, send: (chunk: unknown) => Promise<void>): Promise<unknown>
}

export interface HostedAgentSpec {
  agentId: string
  /** Defaults to the agent id. */
  clientId?: string
  /** Who the instance acts as in policies and audit (`a2a:<agentId>`, `mcp:<server>`). */
  principal: string
  capabilities: CapabilitySpec[]
  metadata?: Record<string, unknown>
  reach: AgentReach
}

export interface HostedAgent {
  readonly instanceId: string
  /** Leaves the directory at once; calls in progress are aborted and fail over or fail. */
  close(): void
}

type HostLayer = Pick<AgentLayer, 'registerHosted' | 'unregisterHosted' | 'answerFrom'>

const MAX_FAILURE_MESSAGE = 2_000

function failureOf(error: unknown): { code: string; message: string } {
  if (error instanceof HostedAgentUnavailable) {
    return { code: 'agent_unavailable', message: error.message.slice(0, MAX_FAILURE_MESSAGE) }
  }
  if (error instanceof HostedAgentFailure) {
    return {
      code: error.code.slice(0, 64) || 'agent_failed',
      message: error.message.slice(0, MAX_FAILURE_MESSAGE),
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'agent_failed', message: message.slice(0, MAX_FAILURE_MESSAGE) }
}

/** Data as JSON carries it: `undefined` becomes null. */
function jsonData(value: unknown): unknown {
  return value === undefined ? null : value
}

interface ServedStream {
  controller: AbortController
  credit: number
  seq: number
  wake: (() => void) | undefined
}

/**
 * An in-process agent instance: code inside the gateway (the adapter of an external A2A agent, or of an MCP
 * server's tools) registered in the agent directory like a WebSocket agent, so requests and streams reach it with
 * the same access checks, balancing, failover, timeouts and audit. Frames for it are handled on a later tick,
 * never inside the routing call that sent them.
 */
export function hostAgent(
  layer: HostLayer,
  spec: HostedAgentSpec,
  handlers: HostedAgentHandlers,
): HostedAgent {
  let open = true
  const requests = new Map<string, AbortController>()
  const streams = new Map<string, ServedStream>()

  const connection = {
    id: newId('hst'),
    clientId: spec.clientId ?? spec.agentId,
    principal: spec.principal,
    role: 'agent' as const,
    agentKeyId: undefined,
    get lastSeenAt() {
      return Date.now()
    },
    get isOpen() {
      return open
    },
    sendFrame(frame: ServerFrame): boolean {
      if (!open) return false
      setImmediate(() => onFrame(frame))
      return true
    },
  }

  const answer = (frame: RespondFrame | StreamFrame) => {
    if (open) layer.answerFrom(connection, frame)
  }

  function call(id: string, frame: { data: unknown; from: Caller; capability?: string; traceId: string }) {
    const controller = new AbortController()
    const hosted: HostedCall = {
      id,
      data: frame.data,
      from: frame.from,
      capability: frame.capability,
      traceId: frame.traceId,
      signal: controller.signal,
    }
    return { controller, hosted }
  }

  function onRequest(frame: Extract<ServerFrame, { type: 'request_incoming' }>): void {
    const { controller, hosted } = call(frame.correlationId, frame)
    requests.set(frame.correlationId, controller)
    // The gateway has told the caller `timeout` by the deadline; stop the work then too.
    const timer = setTimeout(() => controller.abort('deadline'), Math.max(0, frame.deadline - Date.now()))
    Promise.resolve()
      .then(() => handlers.request(hosted))
      .then(
        (data) =>
          answer({
            type: 'respond',
            correlationId: frame.correlationId,
            data: jsonData(data),
          } as RespondFrame),
        (error: unknown) => {
          if (!controller.signal.aborted) {
            answer({ type: 'respond', correlationId: frame.correlationId, error: failureOf(error) })
          }
        },
      )
      .finally(() => {
        clearTimeout(timer)
        requests.delete(frame.correlationId)
      })
  }

  function onStream(frame: Extract<ServerFrame, { type: 'stream_incoming' }>): void {
    const { controller, hosted } = call(frame.streamId, frame)
    const served: ServedStream = { controller, credit: frame.credit, seq: 0, wake: undefined }
    streams.set(frame.streamId, served)
    const send = async (chunk: unknown): Promise<void> => {
      while (served.credit === 0) {
        if (controller.signal.aborted) throw new HostedAgentFailure('aborted', 'the stream was aborted')
        await new Promise<void>((resolve) => {
          served.wake = resolve
        })
      }
      if (controller.signal.aborted) throw new HostedAgentFailure('aborted', 'the stream was aborted')
      served.credit -= 1
      served.seq += 1
      answer({
        type: 'stream_chunk',
        streamId: frame.streamId,
        seq: served.seq,
        data: jsonData(chunk),
      } as StreamFrame)
    }
    const serve =
      handlers.stream === undefined
        ? async () => {
            await send(await handlers.request(hosted))
            return undefined
          }
        : () => (handlers.stream as NonNullable<HostedAgentHandlers['stream']>)(hosted, send)
    Promise.resolve()
      .then(serve)
      .then(
        (trailer) => {
          if (controller.signal.aborted) return
          answer({
            type: 'stream_end',
            streamId: frame.streamId,
            ...(trailer === undefined ? {} : { data: trailer }),
          } as StreamFrame)
        },
        (error: unknown) => {
          if (!controller.signal.aborted) {
            answer({ type: 'stream_error', streamId: frame.streamId, error: failureOf(error) })
          }
        },
      )
      .finally(() => streams.delete(frame.streamId))
  }

  function abortStream(streamId: string, reason: string): void {
    const served = streams.get(streamId)
    if (served === undefined) return
    served.controller.abort(reason)
    served.wake?.()
  }

  function onFrame(frame: ServerFrame): void {
    if (!open) return
    switch (frame.type) {
      case 'request_incoming':
        onRequest(frame)
        return
      case 'request_cancel':
        requests.get(frame.correlationId)?.abort(frame.reason)
        return
      case 'stream_incoming':
        onStream(frame)
        return
      case 'stream_credit': {
        const served = streams.get(frame.streamId)
        if (served === undefined) return
        served.credit += frame.credit
        const wake = served.wake
        served.wake = undefined
        wake?.()
        return
      }
      case 'stream_abort':
        abortStream(frame.streamId, frame.reason ?? 'aborted')
        return
      default:
        // Direct messages, introductions and signals are not served by in-process agents.
        return
    }
  }

  const register: AgentRegisterFrame = {
    type: 'agent_register',
    id: 'hosted',
    agentId: spec.agentId,
    capabilities: spec.capabilities,
    ...(spec.metadata === undefined ? {} : { metadata: spec.metadata }),
    introductions: 'reject',
  }
  const route = layer.registerHosted(connection, register, spec.reach)

  return {
    instanceId: route.instanceId,
    close() {
      if (!open) return
      for (const controller of requests.values()) controller.abort('instance closed')
      for (const streamId of [...streams.keys()]) abortStream(streamId, 'instance closed')
      layer.unregisterHosted(connection)
      open = false
    },
  }
}
