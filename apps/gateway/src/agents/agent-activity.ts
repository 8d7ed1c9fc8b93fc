/**
 * What the agent layer tells observers (the metrics) about finished requests. Names only, never the ids of
 * requests or connections: the observers turn them into bounded label sets.
 */
export interface FinishedRequest {
  /** The calling agent's id, or `''` when the caller is not a registered agent (a plain client). */
  caller: string
  /** The answering (or last tried) agent's id, or `''` when no instance took the request. */
  agent: string
  /** The capability the request was routed by, or `''` when it named an agent only. */
  capability: string
  /** `ok`, or the error code the caller got (`timeout`, `agent_error`, `no_route`, `policy_denied`, …). */
  outcome: string
  /** From the gateway receiving the request to its answer (or refusal). */
  latencyMs: number
}

export type FinishedRequestListener = (request: FinishedRequest) => void

/** Which way a stream chunk went: from the agent to the stream's opener, or from the opener to the agent. */
export type StreamChunkDirection = 'to_caller' | 'to_agent'
export type StreamChunkListener = (agent: string, direction: StreamChunkDirection) => void

/** The agent layer's observer list: observers subscribe; the request path calls `requestFinished`. */
export function createAgentActivity() {
  const listeners = new Set<FinishedRequestListener>()
  const chunkListeners = new Set<StreamChunkListener>()
  return {
    /** Subscribes `listener`; returns its unsubscribe. */
    onRequestFinished(listener: FinishedRequestListener): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Subscribes `listener` to the chunks relayed by this node's streams; returns its unsubscribe. */
    onStreamChunk(listener: StreamChunkListener): () => void {
      chunkListeners.add(listener)
      return () => chunkListeners.delete(listener)
    },
    /** True when someone listens, so the request path builds the event only then. */
    get observed(): boolean {
      return listeners.size > 0 || chunkListeners.size > 0
    },
    requestFinished(request: FinishedRequest): void {
      for (const listener of listeners) listener(request)
    },
    /** A chunk of a stream to (or from) `agent` was relayed. */
    streamChunk(agent: string, direction: StreamChunkDirection): void {
      for (const listener of chunkListeners) listener(agent, direction)
    },
  }
}

export type AgentActivity = ReturnType<typeof createAgentActivity>
