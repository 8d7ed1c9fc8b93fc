import { describe, expect, it } from 'vitest'
import { AgentError, NoRouteError } from './errors.js'
import { useAgentFixtures } from './test-support/agent-gateway.js'

const fixtures = useAgentFixtures()

/** An AgentClient and an AgentCaller talking through the scripted gateway's minimal router. */
async function pair() {
  const gateway = await fixtures.gateway()
  gateway.routing = true
  const agent = fixtures.agent(gateway.server.url, { agentId: 'writer', capabilities: ['write'] })
  const caller = fixtures.caller(gateway.server.url, { clientId: 'web-1' })
  return { gateway, agent, caller }
}

describe('AgentClient and AgentCaller through a router', () => {
  it('answers a request end to end, and an agent failure comes back as AgentError', async () => {
    const { agent, caller } = await pair()
    agent.handle((data, context) => {
      if (data === 'fail') throw Object.assign(new Error('ink ran out'), { code: 'no_ink' })
      return { wrote: data, for: context.from.clientId, capability: context.capability }
    })
    await agent.connect()
    await caller.connect()

    expect(await caller.request({ capability: 'write' }, 'hello')).toEqual({
      wrote: 'hello',
      for: 'web-1',
      capability: 'write',
    })
    const failure = await caller.request('writer', 'fail').catch((caught: unknown) => caught)
    expect(failure).toBeInstanceOf(AgentError)
    expect(failure).toMatchObject({ agentCode: 'no_ink', agentMessage: 'ink ran out' })
    await expect(caller.request('nobody', 1)).rejects.toBeInstanceOf(NoRouteError)
  })

  it('streams 10,000 chunks from a handler to a reader, within credit on both SDKs, with the trailer', async () => {
    const { gateway, agent, caller } = await pair()
    const total = 10_000
    agent.handleStream(async (data, sink) => {
      for (let n = 1; n <= (data as { count: number }).count; n += 1) await sink.write(n)
      sink.end({ done: true })
    })
    await agent.connect()
    await caller.connect()

    const stream = caller.stream<number>('writer', { count: total }, { credit: 8 })
    let expected = 1
    let inOrder = true
    let maxBuffered = 0
    for await (const chunk of stream) {
      if (chunk !== expected) inOrder = false
      expected += 1
      maxBuffered = Math.max(maxBuffered, stream.buffered)
    }

    expect(expected - 1).toBe(total)
    expect(inOrder).toBe(true)
    expect(stream.trailer).toEqual({ done: true })
    expect(gateway.creditViolations).toBe(0)
    expect(maxBuffered).toBeLessThanOrEqual(8)
    // 10,000 chunks (hundreds of credit round trips): seconds on a loaded machine, so a bound that holds there.
  }, 60_000)
})
