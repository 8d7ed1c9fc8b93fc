import { AgentRegisterResult } from '@parley/protocol'
import { afterEach } from 'vitest'
import type { AgentAccess } from '../../src/agents/types.js'
import { type FrameOf, TestClient } from './test-client.js'
import { startTestGateway, type TestGateway } from './test-gateway.js'

export type RequestIncoming = FrameOf<'request_incoming'>

/** Connects and registers as an instance of `agentId`; resolves with the client and its instance id. */
export async function connectAgent(
  wsUrl: string,
  agentId: string,
  capabilities: string[] = [],
  hello: Hello = {},
): Promise<{ client: TestClient; instanceId: string }> {
  const client = await TestClient.connect(wsUrl, hello)
  const result = AgentRegisterResult.parse(await client.ok({ type: 'agent_register', agentId, capabilities }))
  return { client, instanceId: result.instanceId }
}

type Hello = { clientId?: string; token?: string }

/**
 * A test gateway per test and the agents and clients connected to it, all closed after each test (installs
 * an `afterEach`: call it inside a `describe`).
 */
export function useAgentGateway() {
  let current: TestGateway | undefined
  const clients: TestClient[] = []
  const wsUrl = () => current?.started.wsUrl ?? ''
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await current?.dispose()
    current = undefined
  })
  return {
    /** The gateway the test started; throws before `start`. */
    get server(): TestGateway {
      if (current === undefined) throw new Error('the test has not started its gateway')
      return current
    },
    async start(...args: Parameters<typeof startTestGateway>): Promise<TestGateway> {
      current = await startTestGateway(...args)
      return current
    },
    /** Connects and registers an instance of `agentId` (see connectAgent). */
    async agent(agentId: string, capabilities: string[] = [], hello: Hello = {}) {
      const registered = await connectAgent(wsUrl(), agentId, capabilities, hello)
      clients.push(registered.client)
      return registered
    },
    async client(hello: Hello = {}): Promise<TestClient> {
      const connected = await TestClient.connect(wsUrl(), hello)
      clients.push(connected)
      return connected
    },
  }
}

/** startTestGateway's options for a gateway that asks `access` (none: the gateway's default). */
export function withAgentAccess(access: AgentAccess | undefined) {
  return access === undefined ? {} : { agentAccess: () => access }
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
