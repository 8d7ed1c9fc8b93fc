import type { ErrorBody, TraceContext } from '@parley/protocol'
import { type EntryAgentCalls, entryCaller, thrownErrorBody } from '../agents/entry-caller.js'
import type { Principal } from '../auth/auth-provider.js'

/** What the MCP face needs of the agent layer: the entry a WebSocket connection's frames take. */
export type McpAgentCalls = EntryAgentCalls

/** How a tool call ended, as the agent layer answered it. */
export type CallOutcome =
  | { kind: 'answer'; data: unknown }
  | { kind: 'streamed'; chunks: unknown[]; trailer: unknown }
  /** The agent answered with an error (`agent_error` with the agent's code and message). */
  | { kind: 'agent_error'; code: string; message: string }
  /** The gateway refused or could not finish the call (policy, no route, timeout, unavailable, …). */
  | { kind: 'refused'; error: ErrorBody }

export interface ToolCallRequest {
  principal: Principal
  agentId: string
  capability: string
  data: unknown
  /** Serve it as a Parley stream: each chunk is passed to `onChunk` as it arrives. */
  stream: boolean
  onChunk(data: unknown, seq: number): void
  /** The MCP request was cancelled or its HTTP request went away. */
  signal: AbortSignal
  traceId: string
  /** The caller's accepted W3C trace context (`traceContextOfHeaders`): the agent is invoked in its trace. */
  trace: TraceContext
}

const CALL_ID = 'mcp'

function agentErrorOf(error: ErrorBody): CallOutcome {
  const details = error.details as { code?: unknown; message?: unknown } | undefined
  if (error.code === 'agent_error' && typeof details?.code === 'string')
    return { kind: 'agent_error', code: details.code, message: String(details.message ?? error.message) }
  return { kind: 'refused', error }
}

/**
 * Runs one `tools/call` as a Parley request (or stream) through the agent layer, targeted at the tool's agent
 * and capability (`{ capability, agentId }`), so it is access-checked, balanced across that agent's instances,
 * failed over, timed out and audited like a WebSocket caller's. The correlation id (request) or stream id of
 * the agent layer's audit rows is passed to `onRouted`.
 */
export async function runToolCall(
  agents: McpAgentCalls,
  call: ToolCallRequest,
  onRouted: (correlationId: string) => void,
): Promise<CallOutcome> {
  let settle: (outcome: CallOutcome) => void = () => {}
  const finished = new Promise<CallOutcome>((resolve) => {
    settle = resolve
  })
  let settled = false
  const done = (outcome: CallOutcome) => {
    if (settled) return
    settled = true
    settle(outcome)
  }
  let streamId: string | undefined
  const chunks: unknown[] = []

  const caller = entryCaller('mcp', call.principal, (frame) => {
    switch (frame.type) {
      case 'reply': {
        if (frame.id !== CALL_ID) return
        const result = frame.result as { streamId?: string; correlationId?: string; data?: unknown }
        if (call.stream && typeof result.streamId === 'string') {
          streamId = result.streamId
          onRouted(streamId)
          // The caller sends nothing into the stream: its side ends at once.
          agents.handleFrom(caller, { type: 'stream_end', streamId }, 0)
          return
        }
        if (typeof result.correlationId === 'string') onRouted(result.correlationId)
        done({ kind: 'answer', data: result.data ?? null })
        return
      }
      case 'error':
        if (frame.id === CALL_ID || frame.id === undefined) {
          const { type: _type, id: _id, ...error } = frame
          done(agentErrorOf(error as ErrorBody))
        }
        return
      case 'stream_chunk':
        if (frame.streamId !== streamId || settled) return
        chunks.push(frame.data)
        call.onChunk(frame.data, frame.seq)
        agents.handleFrom(caller, { type: 'stream_credit', streamId: frame.streamId, credit: 1 }, 0)
        return
      case 'stream_end':
        if (frame.streamId === streamId) done({ kind: 'streamed', chunks, trailer: frame.data })
        return
      case 'stream_error':
        if (frame.streamId === streamId)
          done({ kind: 'agent_error', code: frame.error.code, message: frame.error.message })
        return
      case 'stream_abort':
        if (frame.streamId === streamId)
          done({
            kind: 'refused',
            error: {
              code: 'agent_unavailable',
              message: `the agent ended the stream: ${frame.reason ?? 'aborted'}`,
              retryable: true,
            },
          })
        return
      default:
        return
    }
  })

  const onAbort = () => {
    if (streamId !== undefined)
      agents.handleFrom(caller, { type: 'stream_abort', streamId, reason: 'canceled' }, 0)
    else agents.cancelFrom(caller, CALL_ID, 'canceled by the MCP client')
    done({
      kind: 'refused',
      error: { code: 'unavailable', message: 'the MCP client cancelled the call', retryable: false },
    })
  }
  if (call.signal.aborted) onAbort()
  else call.signal.addEventListener('abort', onAbort, { once: true })

  const target = { capability: call.capability, agentId: call.agentId }
  const data = call.data ?? null
  const size = Buffer.byteLength(JSON.stringify(data) ?? '')
  try {
    await agents.handleFrom(
      caller,
      call.stream
        ? { type: 'stream_open', id: CALL_ID, target, data, traceId: call.traceId, ...call.trace }
        : { type: 'request', id: CALL_ID, target, data, traceId: call.traceId, ...call.trace },
      size,
    )
  } catch (error) {
    done({ kind: 'refused', error: thrownErrorBody(error) })
  }
  const outcome = await finished
  call.signal.removeEventListener('abort', onAbort)
  caller.close()
  agents.connectionClosed(caller)
  return outcome
}
