import { type Span, trace } from '@opentelemetry/api'
import { AgentCaller, AgentClient } from '@parley/client'
import { createMemoryDeliveryBackend, type DeliveryBackend } from '@parley/stores'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { SPAN_KIND, useOtlpTracing } from './support/otlp-tracing.js'
import { FAST_RECONNECT } from './support/sdk-agents.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

// Every OTLP exporter constructed in this file, gateway or SDK side: "no endpoint, no exporter" is asserted on it.
const exporters = vi.hoisted(() => ({ urls: [] as string[] }))
vi.mock('@opentelemetry/exporter-trace-otlp-http', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@opentelemetry/exporter-trace-otlp-http')>()
  class CountedExporter extends actual.OTLPTraceExporter {
    constructor(config?: ConstructorParameters<typeof actual.OTLPTraceExporter>[0]) {
      super(config)
      exporters.urls.push(config?.url ?? '')
    }
  }
  return { ...actual, OTLPTraceExporter: CountedExporter }
})

const TOKEN = 'tracing-test-token-0123456789'
const { SERVER, CLIENT, PRODUCER, CONSUMER } = SPAN_KIND

const tracing = useOtlpTracing()

describe('traces across two gateway nodes', () => {
  let backend: DeliveryBackend
  let buses: MemoryBus[] = []
  let nodes: TestGateway[] = []
  const clients: AgentCaller[] = []

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
    await backend?.close()
    nodes = []
    buses = []
  })

  async function startNodes(tracing: { otlpEndpoint?: string }): Promise<void> {
    const network = createMemoryBusNetwork()
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    buses = ['node-1', 'node-2'].map((id) => network.join(id))
    for (const bus of buses) {
      nodes.push(await startTestGateway({ authToken: TOKEN, tracing }, { bus, deliveryBackend: backend }))
    }
  }

  function wsUrl(node: number): string {
    return nodes[node]?.started.wsUrl ?? ''
  }

  /** Agent A (node 2) asks agent B (node 1) inside its handler, with no trace plumbing of its own. */
  async function connectAgents(): Promise<AgentCaller> {
    const agentB = new AgentClient(wsUrl(0), {
      agentId: 'agent-b',
      capabilities: ['answer'],
      authToken: TOKEN,
      reconnect: FAST_RECONNECT,
    })
    agentB.handle(async (data) => ({ b: data }))
    const agentA = new AgentClient(wsUrl(1), {
      agentId: 'agent-a',
      capabilities: ['ask'],
      authToken: TOKEN,
      reconnect: FAST_RECONNECT,
    })
    agentA.handle(async (data) => ({ a: await agentA.request('agent-b', data) }))
    const caller = new AgentCaller(wsUrl(0), {
      clientId: 'caller',
      authToken: TOKEN,
      reconnect: FAST_RECONNECT,
    })
    clients.push(agentB, agentA, caller)
    await Promise.all([agentB.connect(), agentA.connect(), caller.connect()])
    return caller
  }

  it('exports one trace caller → gateway → agent A → gateway → agent B, parent-linked across both nodes', async () => {
    const before = exporters.urls.length
    await startNodes({ otlpEndpoint: tracing.receiver.url })
    expect(exporters.urls.slice(before)).toEqual([
      `${tracing.receiver.url}/v1/traces`,
      `${tracing.receiver.url}/v1/traces`,
    ])
    expect(nodes.map((node) => node.gateway.tracing.exporting)).toEqual([true, true])
    const caller = await connectAgents()

    const tracer = trace.getTracer('tracing-test')
    const { result, callerSpan } = await tracer.startActiveSpan('caller', async (span: Span) => {
      const answered = await caller.requestResult('agent-a', 'hi')
      span.end()
      return { result: answered, callerSpan: span.spanContext() }
    })
    expect(result.data).toEqual({ a: { b: 'hi' } })
    // The gateway's trace id is the caller's: its audit rows name the OpenTelemetry trace.
    expect(result.traceId).toBe(callerSpan.traceId)

    // Stopping a node sends the spans its batch processor still holds.
    for (const node of nodes) await node.dispose()
    const { spans, parentOf, find } = await tracing.traceOf(callerSpan.traceId)
    const ids = new Set(spans.map((span) => span.spanId))

    // One root, the caller's span; every other span's parent is in the trace (no orphans).
    expect(spans.filter((span) => span.parentSpanId === undefined).map((span) => span.name)).toEqual([
      'caller',
    ])
    for (const span of spans) {
      if (span.parentSpanId !== undefined) expect(ids.has(span.parentSpanId), span.name).toBe(true)
    }
    const gatewayA = find('invoke_agent agent-a', CLIENT)
    const handlerA = find('invoke_agent agent-a', SERVER)
    const gatewayB = find('invoke_agent agent-b', CLIENT)
    const handlerB = find('invoke_agent agent-b', SERVER)
    // caller → node 1 (the caller's node) → agent A → node 2 (agent A's node) → agent B
    expect(parentOf(gatewayA)?.name).toBe('caller')
    expect(gatewayA?.instance).toBe('node-1')
    expect(parentOf(handlerA)).toBe(gatewayA)
    expect(handlerA?.service).toBe('agents')
    expect(parentOf(gatewayB)).toBe(handlerA)
    expect(gatewayB?.instance).toBe('node-2')
    expect(parentOf(handlerB)).toBe(gatewayB)
    expect(gatewayA?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'agent-a',
    })
    expect(gatewayB?.attributes['parley.hops']).toBe(1)
    expect(spans).toHaveLength(5)
  })

  it('exports publisher → gateway publish (node 1) → subscriber process (node 2) for a channel message', async () => {
    await startNodes({ otlpEndpoint: tracing.receiver.url })
    const subscriber = new AgentCaller(wsUrl(1), {
      clientId: 'sub',
      authToken: TOKEN,
      reconnect: FAST_RECONNECT,
    })
    const publisher = new AgentCaller(wsUrl(0), {
      clientId: 'pub',
      authToken: TOKEN,
      reconnect: FAST_RECONNECT,
    })
    clients.push(subscriber, publisher)
    await Promise.all([subscriber.connect(), publisher.connect()])
    await subscriber.subscribe('alerts')
    const received = new Promise<{ traceparent?: string }>((resolve) =>
      subscriber.on('channel_message', resolve),
    )
    const tracer = trace.getTracer('tracing-test')
    const publisherSpan = await tracer.startActiveSpan('publisher', async (span: Span) => {
      await publisher.publish('alerts', { level: 'high' })
      span.end()
      return span.spanContext()
    })
    const message = await received
    expect(message.traceparent?.split('-')[1]).toBe(publisherSpan.traceId)

    for (const node of nodes) await node.dispose()
    const { spans } = await tracing.traceOf(publisherSpan.traceId)
    const publish = spans.find((span) => span.name === 'publish alerts')
    const processed = spans.find((span) => span.name === 'process alerts')
    expect(publish).toMatchObject({ kind: PRODUCER, instance: 'node-1', parentSpanId: publisherSpan.spanId })
    expect(publish?.attributes).toMatchObject({
      'messaging.system': 'parley',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'alerts',
    })
    // The live frame crossed the bus to node 2 with the publish span's context.
    expect(message.traceparent?.split('-')[2]).toBe(publish?.spanId)
    expect(processed).toMatchObject({ kind: CONSUMER, service: 'agents', parentSpanId: publish?.spanId })
  })

  it('creates no exporter and sends nothing when no OTLP endpoint is set', async () => {
    const before = exporters.urls.length
    const gatewaySpans = () =>
      tracing.receiver.spans.filter((span) => span.service === 'parley-gateway').length
    const sentBefore = gatewaySpans()
    await startNodes({})
    const caller = await connectAgents()
    await expect(caller.request('agent-a', 'hi')).resolves.toEqual({ a: { b: 'hi' } })
    for (const node of nodes) await node.dispose()
    expect(exporters.urls.length).toBe(before)
    expect(nodes.map((node) => [node.gateway.tracing.enabled, node.gateway.tracing.exporting])).toEqual([
      [false, false],
      [false, false],
    ])
    await tracing.sdkProvider.forceFlush()
    expect(gatewaySpans()).toBe(sentBefore)
  })
})
