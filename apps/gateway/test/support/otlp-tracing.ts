import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { afterAll, beforeAll } from 'vitest'
import { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.js'

/** OTLP span kinds. */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const

/** The spans of one trace, with their parents looked up among them. */
export interface ReceivedTrace {
  spans: ReceivedSpan[]
  parentOf(span: ReceivedSpan | undefined): ReceivedSpan | undefined
  find(name: string, kind: number): ReceivedSpan | undefined
}

/**
 * For a test file: an OTLP/HTTP receiver (point the gateway's `tracing.otlpEndpoint` at `receiver.url`) and the
 * agents' side as an application sets it up: a global tracer provider (service `agents`) exporting to the same
 * receiver, and an async-hooks context manager, so the SDK's handler spans join the caller's trace.
 */
export function useOtlpTracing() {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined
  let sdkProvider: TracerProvider | undefined

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    sdkProvider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'agents' }),
      spanProcessors: [
        new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }) }),
      ],
    })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(sdkProvider)
  })

  afterAll(async () => {
    await sdkProvider?.shutdown()
    trace.disable()
    context.disable()
    await receiver?.close()
  })

  const started = () => {
    if (receiver === undefined || sdkProvider === undefined)
      throw new Error('the OTLP receiver is not started')
    return { receiver, sdkProvider }
  }

  return {
    get receiver() {
      return started().receiver
    },
    get sdkProvider() {
      return started().sdkProvider
    },
    /**
     * The received spans of `traceId` (the SDK side flushed first; stop the gateways before, which sends the
     * spans their batch processors still hold).
     */
    async traceOf(traceId: string): Promise<ReceivedTrace> {
      await started().sdkProvider.forceFlush()
      const spans = started().receiver.spans.filter((span) => span.traceId === traceId)
      const byId = new Map(spans.map((span) => [span.spanId, span]))
      return {
        spans,
        parentOf: (span) => (span?.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)),
        find: (name, kind) => spans.find((span) => span.name === name && span.kind === kind),
      }
    },
  }
}
