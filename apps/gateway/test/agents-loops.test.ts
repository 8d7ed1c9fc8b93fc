import { type AgentClient, ParleyError, type RequestContext } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { SdkFixture } from './support/sdk-agents.js'

const codeOf = (error: unknown) => (error instanceof ParleyError ? error.code : String(error))

/**
 * `ping` and `pong` answer each request by requesting the other (a loop), each recording the hops its
 * request came with and the error its own call got. `carry` says what the handler passes on.
 */
function loop(ping: AgentClient, pong: AgentClient, carry: (context: RequestContext) => object) {
  const seen: number[] = []
  const failures: string[] = []
  for (const [self, other] of [
    [ping, 'pong'],
    [pong, 'ping'],
  ] as const) {
    self.handle(async (data, context) => {
      seen.push(context.hops)
      try {
        return await self.request(other, data, carry(context))
      } catch (error) {
        failures.push(codeOf(error))
        throw error
      }
    })
  }
  return { seen, failures }
}

describe('agent request loops', () => {
  const fixture = new SdkFixture()
  afterEach(async () => {
    await fixture.dispose()
  })

  it('stops two agents calling each other in a loop with loop_detected at agents.maxHops', async () => {
    await fixture.start({ agents: { maxHops: 4 } })
    const ping = fixture.agent({ agentId: 'ping', capabilities: [] })
    const pong = fixture.agent({ agentId: 'pong', capabilities: [] })
    const { seen, failures } = loop(ping, pong, (context) => ({ context }))
    await Promise.all([ping.connect(), pong.connect()])
    const caller = fixture.caller('loop-starter')
    await caller.connect()

    const error = await caller.request('ping', 'go').catch((failure: unknown) => failure)
    // Four requests ran (hops 0 to 3); the fifth, hop 5 of the chain, was refused before reaching anyone.
    expect(seen).toEqual([0, 1, 2, 3])
    expect(failures[0]).toBe('loop_detected')
    expect(codeOf(error)).toBe('agent_error')
  })

  it('also stops a loop whose agents pass on only the trace id (the gateway counts the hops itself)', async () => {
    await fixture.start({ agents: { maxHops: 3 } })
    const ping = fixture.agent({ agentId: 'ping', capabilities: [] })
    const pong = fixture.agent({ agentId: 'pong', capabilities: [] })
    const { seen, failures } = loop(ping, pong, (context) => ({ traceId: context.traceId }))
    await Promise.all([ping.connect(), pong.connect()])
    const caller = fixture.caller('loop-starter')
    await caller.connect()

    await caller.request('ping', 'go').catch(() => undefined)
    expect(seen).toEqual([0, 1, 2])
    expect(failures[0]).toBe('loop_detected')
  })

  it('lets a chain of independent requests through: hops count only calls made for a request', async () => {
    await fixture.start({ agents: { maxHops: 2 } })
    const echo = fixture.agent({ agentId: 'echo', capabilities: [] })
    echo.handle((data, context) => ({ data, hops: context.hops }))
    await echo.connect()
    const caller = fixture.caller('many')
    await caller.connect()
    for (let index = 0; index < 5; index += 1) {
      expect(await caller.request('echo', index)).toEqual({ data: index, hops: 0 })
    }
  })

  it('defaults agents.maxHops to 16', () => {
    expect(parseConfig({}).agents.maxHops).toBe(16)
  })
})
