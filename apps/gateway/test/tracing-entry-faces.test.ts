import { randomBytes } from 'node:crypto'
import { TaskState } from '@a2a-js/sdk'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterEach, describe, expect, it } from 'vitest'
import { a2aClientFetching, bearerFetch, sendRequest, userText } from './a2a/a2a-clients.js'
import { mcpClient } from './mcp/mcp-clients.js'
import { SPAN_KIND, useOtlpTracing } from './support/otlp-tracing.js'
import { SdkFixture } from './support/sdk-agents.js'

const TOKEN = 'entry-faces-trace-token-0123'
/** The caller's span, as its instrumented HTTP client names it in `traceparent`. */
const CALLER_SPAN_ID = '00f067aa0ba902b7'
/** A trace of its own per test: the receiver keeps every test's spans. */
const newTraceId = () => randomBytes(16).toString('hex')
const traceHeaders = (traceId: string) => ({
  traceparent: `00-${traceId}-${CALLER_SPAN_ID}-01`,
  tracestate: 'vendor=1',
})
const { SERVER, CLIENT } = SPAN_KIND
const INVOKE_ECHO = 'invoke_agent echo'

/**
 * A caller reaching an agent through the gateway's A2A or MCP face continues its own trace when it is
 * authenticated: the gateway's `invoke_agent` span is a child of the caller's `traceparent`, and the agent's
 * handler span (the SDK's) a child of the gateway's.
 */
describe('W3C trace context on the A2A and MCP HTTP entry points', () => {
  const fixture = new SdkFixture()
  const tracing = useOtlpTracing()
  const mcpClients: Client[] = []

  afterEach(async () => {
    for (const client of mcpClients.splice(0)) await client.close()
    await fixture.dispose()
  })

  /** A traced gateway (`allowAnonymous` as given) with agent `echo` answering requests and streams. */
  async function startWithEcho(config: { allowAnonymous?: boolean } = {}): Promise<void> {
    await fixture.start({ authToken: TOKEN, tracing: { otlpEndpoint: tracing.receiver.url }, ...config })
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'], authToken: TOKEN })
    echo.handle((data) => `echo: ${String(data)}`)
    echo.handleStream(async (data, sink) => {
      await sink.write(`${String(data)} 1`)
      await sink.write(`${String(data)} 2`)
    })
    await echo.connect()
  }

  /** Stops the gateway, which sends the spans its batch processor still holds. */
  async function stopGateway(): Promise<void> {
    for (const client of mcpClients.splice(0)) await client.close()
    await fixture.dispose()
  }

  async function mcp(token: string | undefined, headers: Record<string, string>): Promise<Client> {
    const client = await mcpClient(`${fixture.url}/mcp`, token, headers)
    mcpClients.push(client)
    return client
  }

  /** A `tools/call` of echo answered as a request, then one with a progress token (a Parley stream). */
  async function callEchoTool(client: Client): Promise<void> {
    const answered = await client.callTool({ name: 'echo__echo', arguments: { input: 'hi' } })
    expect(answered.isError).toBeFalsy()
    const streamed = await client.callTool({ name: 'echo__echo', arguments: { input: 'hi' } }, undefined, {
      onprogress: () => {},
    })
    expect(streamed.isError).toBeFalsy()
  }

  /** A message (a request) and a streaming message (a stream) to echo through the official A2A client. */
  async function messageEcho(client: Awaited<ReturnType<typeof a2aClientFetching>>): Promise<void> {
    const sent = await client.sendMessage(sendRequest(userText('hi')))
    expect('id' in sent && sent.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    const kinds: string[] = []
    for await (const event of client.sendMessageStream(sendRequest(userText('hi'))))
      kinds.push(event.payload?.$case ?? 'empty')
    expect(kinds).toEqual(['task', 'artifactUpdate', 'artifactUpdate', 'statusUpdate'])
  }

  /**
   * The header's trace: two gateway `invoke_agent echo` spans (a request and a stream), each a child of the
   * caller's span, and two agent handler spans, each a child of one of them.
   */
  async function expectContinuedTrace(traceId: string): Promise<void> {
    const { spans, parentOf } = await tracing.traceOf(traceId)
    const gateway = spans.filter((span) => span.name === INVOKE_ECHO && span.kind === CLIENT)
    const agent = spans.filter((span) => span.name === INVOKE_ECHO && span.kind === SERVER)
    expect(gateway.map((span) => span.attributes['parley.operation']).sort()).toEqual(['request', 'stream'])
    for (const span of gateway) {
      expect(span).toMatchObject({ service: 'parley-gateway', parentSpanId: CALLER_SPAN_ID })
      expect(span.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.id': 'echo',
      })
    }
    // An entry through a face starts the chain of agent requests: hop 0, as a WebSocket caller's.
    expect(
      gateway.find((span) => span.attributes['parley.operation'] === 'request')?.attributes,
    ).toMatchObject({
      'parley.hops': 0,
    })
    expect(agent).toHaveLength(2)
    for (const span of agent) {
      expect(span.service).toBe('agents')
      expect(gateway).toContain(parentOf(span))
    }
  }

  /**
   * The gateway spans exported since `before`, outside the trace `adopted` (an authenticated caller's): `count`,
   * each the root of a new trace, none in `traceId`.
   */
  function expectNewTraces(traceId: string, before: number, count: number, adopted?: string): void {
    const gateway = tracing.receiver.spans
      .slice(before)
      .filter((span) => span.name === INVOKE_ECHO && span.kind === CLIENT && span.traceId !== adopted)
    expect(gateway).toHaveLength(count)
    for (const span of gateway) {
      expect(span.parentSpanId).toBeUndefined()
      expect(span.traceId).not.toBe(traceId)
    }
    expect(tracing.receiver.spans.filter((span) => span.traceId === traceId)).toEqual([])
  }

  it.each(['JSONRPC', 'HTTP+JSON'] as const)(
    'continues an authenticated A2A caller’s traceparent (%s binding, message and streaming message)',
    async (binding) => {
      await startWithEcho()
      const traceId = newTraceId()
      const headers = traceHeaders(traceId)
      await messageEcho(await a2aClientFetching(fixture.url, 'echo', bearerFetch(TOKEN, headers), binding))
      await stopGateway()
      await expectContinuedTrace(traceId)
    },
  )

  it('continues an authenticated MCP caller’s traceparent through tools/call (answer and progress stream)', async () => {
    await startWithEcho()
    const traceId = newTraceId()
    await callEchoTool(await mcp(TOKEN, traceHeaders(traceId)))
    await stopGateway()
    await expectContinuedTrace(traceId)
  })

  it('passes an authenticated caller’s header context on to the agent when the gateway exports no spans', async () => {
    await fixture.start({ authToken: TOKEN })
    const traceIds: string[] = []
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'], authToken: TOKEN })
    echo.handle((data, context) => {
      traceIds.push(context.traceId)
      return data
    })
    await echo.connect()
    const traceId = newTraceId()
    const headers = traceHeaders(traceId)
    const a2a = await a2aClientFetching(fixture.url, 'echo', bearerFetch(TOKEN, headers))
    await a2a.sendMessage(sendRequest(userText('hi')))
    await callEchoTool(await mcp(TOKEN, headers))
    // The call's trace id (its audit rows') is the caller's.
    expect(traceIds).toEqual([traceId, traceId, traceId])
    await stopGateway()
    // No gateway span between: the agent's handler spans are children of the caller's span.
    const { spans } = await tracing.traceOf(traceId)
    expect(spans.map((span) => [span.name, span.kind, span.parentSpanId])).toEqual([
      [INVOKE_ECHO, SERVER, CALLER_SPAN_ID],
      [INVOKE_ECHO, SERVER, CALLER_SPAN_ID],
      [INVOKE_ECHO, SERVER, CALLER_SPAN_ID],
    ])
  })

  it('ignores a traceparent that does not parse or is longer than a frame takes: the calls succeed, each in a new trace', async () => {
    const before = tracing.receiver.spans.length
    await startWithEcho()
    const traceId = newTraceId()
    for (const traceparent of [
      // Upper-case hex: W3C says a receiver must not accept it (nor its tracestate).
      `00-${traceId.toUpperCase()}-${CALLER_SPAN_ID}-01`,
      // A later version may append fields, but not past the 256 characters a frame's traceparent takes.
      `01-${traceId}-${CALLER_SPAN_ID}-01-${'a'.repeat(256)}`,
    ]) {
      const malformed = { ...traceHeaders(traceId), traceparent }
      await messageEcho(await a2aClientFetching(fixture.url, 'echo', bearerFetch(TOKEN, malformed)))
      await callEchoTool(await mcp(TOKEN, malformed))
    }
    await stopGateway()
    expectNewTraces(traceId, before, 8)
  })

  it('does not adopt the trace context of an anonymous A2A or MCP caller (a token holder’s on the same gateway is)', async () => {
    const before = tracing.receiver.spans.length
    await startWithEcho({ allowAnonymous: true })
    const traceId = newTraceId()
    const headers = traceHeaders(traceId)
    await messageEcho(await a2aClientFetching(fixture.url, 'echo', bearerFetch(undefined, headers)))
    await callEchoTool(await mcp(undefined, headers))
    const authenticated = newTraceId()
    await callEchoTool(await mcp(TOKEN, traceHeaders(authenticated)))
    await stopGateway()
    expectNewTraces(traceId, before, 4, authenticated)
    await expectContinuedTrace(authenticated)
  })
})
