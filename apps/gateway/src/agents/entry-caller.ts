import type {
  A2aTaskRef,
  ErrorBody,
  RequestFrame,
  Role,
  ServerFrame,
  StreamOpenFrame,
} from '@parley/protocol'
import { newId } from '../ids.js'
import type { AgentCaller } from './agent-routing.js'
import type { StreamFrame } from './agent-streams.js'

/** What an entry path that is not a hub connection needs of the agent layer: the entry a connection's frames take. */
export interface EntryAgentCalls {
  handleFrom(
    caller: AgentCaller,
    frame: RequestFrame | StreamOpenFrame | StreamFrame,
    size: number,
  ): Promise<void> | undefined
  /** Cancels the caller's pending request: the agent's handler signal fires. */
  cancelFrom(caller: AgentCaller, requestId: string, reason: string): boolean
  connectionClosed(caller: AgentCaller): void
}

/**
 * The per-call caller an entry path that is not a hub connection (the A2A and MCP faces) hands to the agent
 * layer's `handleFrom`: the authenticated principal with client id `<face>:<principal>` and no socket. The
 * agent layer's answers come back through `onFrame` until `close()`.
 */
export function entryCaller(
  face: 'a2a' | 'mcp',
  /** `a2aTask`: the A2A task the call runs as (the agent's handler sees it as `from.a2aTask`). */
  principal: { id: string; role: Role; a2aTask?: A2aTaskRef },
  onFrame: (frame: ServerFrame) => void,
): AgentCaller & { close(): void } {
  let open = true
  return {
    id: newId(face),
    clientId: `${face}:${principal.id}`,
    principal: principal.id,
    role: principal.role,
    lastSeenAt: Date.now(),
    agentKeyId: undefined,
    ...(principal.a2aTask === undefined ? {} : { a2aTask: principal.a2aTask }),
    get isOpen() {
      return open
    },
    sendFrame(frame) {
      if (!open) return false
      onFrame(frame)
      return true
    },
    close() {
      open = false
    },
  }
}

/** What `handleFrom` threw (a `GatewayError`, or anything else: `internal`) as the error body a face answers. */
export function thrownErrorBody(error: unknown): ErrorBody {
  const body = error as Partial<ErrorBody> | undefined
  return {
    code: (body?.code as ErrorBody['code'] | undefined) ?? 'internal',
    message: body?.message ?? 'the call failed',
    retryable: false,
  }
}
