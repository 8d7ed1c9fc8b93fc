import { AgentRegisterResult } from '@parley/protocol'
import { type FrameOf, TestClient } from './test-client.js'

export type RequestIncoming = FrameOf<'request_incoming'>

/** Connects and registers as an instance of `agentId`; resolves with the client and its instance id. */
export async function connectAgent(
  wsUrl: string,
  agentId: string,
  capabilities: string[] = [],
  hello: { clientId?: string; token?: string } = {},
): Promise<{ client: TestClient; instanceId: string }> {
  const client = await TestClient.connect(wsUrl, hello)
  const result = AgentRegisterResult.parse(await client.ok({ type: 'agent_register', agentId, capabilities }))
  return { client, instanceId: result.instanceId }
}

/**
 * Answers every `request_incoming` the agent gets with what `answer` returns (`undefined`: stays silent).
 * Returns the function that stops answering.
 */
export function answerRequests(
  agent: TestClient,
  answer: (
    frame: RequestIncoming,
  ) => { data: unknown } | { error: { code: string; message: string } } | undefined,
): () => void {
  return agent.onFrame((frame) => {
    if (frame.type !== 'request_incoming') return
    const outcome = answer(frame)
    if (outcome === undefined) return
    agent.send({ type: 'respond', correlationId: frame.correlationId, ...outcome })
  })
}
