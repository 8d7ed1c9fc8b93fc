import { describe, expect, it } from 'vitest'
import { answerRequests, useAgentGateway } from './support/agent-clients.js'
import type { FrameOf } from './support/test-client.js'

const TOKEN = 'trace-context-test-token-0123'
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** Trace context is taken only from authenticated peers, and only when it parses (tracing off: passed on). */
describe('trace context from peers', () => {
  const gateway = useAgentGateway()

  /** An agent that keeps what it receives, and a caller (authenticated with `hello.token`, or anonymous). */
  async function agentAndCaller(hello: { token?: string }) {
    const { client: agent } = await gateway.agent('traced', [], { token: TOKEN })
    const seen: FrameOf<'request_incoming'>[] = []
    answerRequests(agent, (frame) => {
      seen.push(frame)
      return { data: 'ok' }
    })
    const caller = await gateway.client(hello)
    return async (trace: Record<string, string>) => {
      const before = seen.length
      await caller.ok({ type: 'request', target: 'traced', data: 1, ...trace })
      expect(seen).toHaveLength(before + 1)
      return seen.at(-1)
    }
  }

  async function incomingOf(hello: { token?: string }, trace: Record<string, string>) {
    return (await agentAndCaller(hello))(trace)
  }

  it('passes an authenticated caller’s traceparent and tracestate on to the agent, and uses its trace id', async () => {
    await gateway.start({ authToken: TOKEN, allowAnonymous: true })
    const incoming = await incomingOf({ token: TOKEN }, { traceparent: TRACEPARENT, tracestate: 'vendor=1' })
    expect(incoming).toMatchObject({
      traceparent: TRACEPARENT,
      tracestate: 'vendor=1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    })
  })

  it('drops the trace context of an anonymous caller', async () => {
    await gateway.start({ authToken: TOKEN, allowAnonymous: true })
    const incoming = await incomingOf({}, { traceparent: TRACEPARENT, tracestate: 'vendor=1' })
    expect(incoming?.traceparent).toBeUndefined()
    expect(incoming?.tracestate).toBeUndefined()
    expect(incoming?.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
  })

  it('ignores a traceparent that does not parse (with its tracestate) and still routes the request', async () => {
    await gateway.start({ authToken: TOKEN })
    const request = await agentAndCaller({ token: TOKEN })
    for (const bad of [
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      const incoming = await request({ traceparent: bad, tracestate: 'vendor=1' })
      expect(incoming, bad).toBeDefined()
      expect(incoming?.traceparent, bad).toBeUndefined()
      expect(incoming?.tracestate, bad).toBeUndefined()
    }
  })
})
