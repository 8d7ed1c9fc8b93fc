import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import type { ClientFrame } from '@parley/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useAgentFixtures } from './test-support/agent-gateway.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useAgentFixtures()

const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const ACTIVE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }

type RequestFrame = Extract<ClientFrame, { type: 'request' }>

// A context manager as any OpenTelemetry Node set-up registers; no tracer provider (spans are non-recording).
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
})
afterAll(() => {
  context.disable()
})

/** A scripted gateway that records `publish` and `request` frames, answering each. */
async function recordingGateway() {
  const seen: ClientFrame[] = []
  const gateway = await fixtures.gateway({
    onFrame(connection, frame) {
      if (frame.type === 'publish') {
        seen.push(frame)
        const result = {
          id: 'msg_1',
          channel: frame.channel,
          delivered: 0,
          timestamp: 1,
          offset: 1,
          epoch: 'e',
        }
        connection.send({ type: 'reply', id: frame.id, result })
        return true
      }
      if (frame.type !== 'request') return false
      seen.push(frame)
      connection.send({
        type: 'reply',
        id: frame.id,
        result: {
          correlationId: 'req_x',
          data: 'ok',
          agentId: 'b',
          instanceId: 'i',
          latencyMs: 1,
          attempts: 1,
          traceId: 't',
        },
      })
      return true
    },
  })
  return { gateway, seen }
}

function incoming(connection: ScriptedConnection, correlationId: string, extra: Record<string, unknown>) {
  connection.send({
    type: 'request_incoming',
    correlationId,
    from: { principal: 'alice', role: 'client', clientId: 'web-1' },
    data: 'go',
    deadline: Date.now() + 10_000,
    attempt: 1,
    idempotent: false,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    hops: 2,
    ...extra,
  })
}

describe('W3C trace context in the SDK', () => {
  it('puts the active span context in an outgoing publish, and nothing when there is none', async () => {
    const { gateway, seen } = await recordingGateway()
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const active = trace.setSpanContext(ROOT_CONTEXT, ACTIVE)
    await context.with(active, () => caller.publish('alerts', 1))
    await caller.publish('alerts', 2)
    expect(seen.map((frame) => (frame as { traceparent?: string }).traceparent)).toEqual([
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      undefined,
    ])
  })

  it('continues the incoming trace, one hop deeper, in a call a handler makes without passing its context', async () => {
    const { gateway, seen } = await recordingGateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'a', capabilities: [] })
    const contexts: Array<{ traceparent?: string | undefined }> = []
    agent.handle(async (_data, ctx) => {
      contexts.push(ctx)
      await new Promise((resolve) => setTimeout(resolve, 1))
      return agent.request('b', 'next')
    })
    await agent.connect()
    const connection = gateway.registrations[0]?.connection
    if (connection === undefined) throw new Error('not registered')
    const respond = gateway.server.nextFrame((frame) => frame.type === 'respond')
    incoming(connection, 'req_1', { traceparent: INCOMING, tracestate: 'v=1' })
    expect((await respond).frame).toMatchObject({ type: 'respond', correlationId: 'req_1', data: 'ok' })
    const nested = seen.find((frame) => frame.type === 'request') as RequestFrame | undefined
    // No tracer provider: the handler's span is the gateway's, passed on.
    expect(nested).toMatchObject({
      traceparent: INCOMING,
      tracestate: 'v=1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      hops: 3,
    })
    expect(contexts[0]?.traceparent).toBe(INCOMING)
  })

  it('carries the handler context given as { context } when no context reaches the call', async () => {
    const { gateway, seen } = await recordingGateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'a', capabilities: [] })
    agent.handle((_data, ctx) =>
      context.with(ROOT_CONTEXT, () => agent.request('b', 'next', { context: ctx })),
    )
    await agent.connect()
    const connection = gateway.registrations[0]?.connection
    if (connection === undefined) throw new Error('not registered')
    const respond = gateway.server.nextFrame((frame) => frame.type === 'respond')
    incoming(connection, 'req_2', { traceparent: INCOMING })
    await respond
    expect(seen.find((frame) => frame.type === 'request')).toMatchObject({ traceparent: INCOMING, hops: 3 })
  })
})
