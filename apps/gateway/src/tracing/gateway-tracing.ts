import {
  type Attributes,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { TracerProvider } from '@opentelemetry/sdk-trace'
import {
  parseTraceparent,
  pickTraceContext,
  remoteSpanContextOf,
  type TraceContext,
  traceContextOfSpan,
} from '@parley/protocol'
import type { GatewayConfig } from '../config.js'

/**
 * The gateway's spans. `enabled` is false when no OTLP endpoint is configured: then no provider or exporter
 * exists (the OpenTelemetry SDK is not even loaded), and every caller checks `enabled` before it builds a span,
 * so the hot paths pay one property read.
 */
export interface GatewayTracing {
  readonly enabled: boolean
  /** True once an OTLP exporter was created (only with `tracing.otlpEndpoint`, from `open()` on). */
  readonly exporting: boolean
  /** Loads the OpenTelemetry SDK and creates the provider and its exporter (at the gateway's start). */
  open(): Promise<void>
  /**
   * Starts a span, a child of `parent`'s `traceparent` when it has one (a new trace otherwise). Only call it
   * when `enabled`.
   */
  start(name: string, kind: SpanKind, parent: TraceContext, attributes: Attributes): Span
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>
}

/** Tracing off: what every part uses unless it is given an enabled one. */
export const noTracing: GatewayTracing = {
  enabled: false,
  exporting: false,
  open: async () => {},
  start() {
    throw new Error('tracing is disabled: check `enabled` before starting a span')
  },
  shutdown: async () => {},
}

export interface GatewayTracingOptions {
  config: Pick<GatewayConfig, 'tracing'>
  nodeId: string
  version: string
}

/**
 * An own tracer provider per gateway, never the global one: an application embedding the gateway (or a test
 * running two nodes in one process) keeps its own provider, and each node's spans carry its node id. The SDK
 * modules are imported by `open()` only (about 200 ms of start-up a gateway without tracing does not pay).
 */
export function createGatewayTracing(options: GatewayTracingOptions): GatewayTracing {
  const endpoint = options.config.tracing.otlpEndpoint
  if (endpoint === undefined) return noTracing
  let provider: TracerProvider | undefined
  let tracer: Tracer | undefined
  return {
    get enabled() {
      return tracer !== undefined
    },
    get exporting() {
      return provider !== undefined
    },
    async open() {
      if (provider !== undefined) return
      const [{ OTLPTraceExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/resources'),
        import('@opentelemetry/sdk-trace'),
      ])
      const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` })
      provider = new sdk.TracerProvider({
        resource: resourceFromAttributes({
          'service.name': options.config.tracing.serviceName,
          'service.version': options.version,
          'service.instance.id': options.nodeId,
        }),
        spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
      })
      tracer = provider.getTracer('parley-gateway', options.version)
    },
    start(name, kind, parent, attributes) {
      if (tracer === undefined) throw new Error('tracing is not open: check `enabled` before starting a span')
      return tracer.startSpan(name, { kind, attributes }, parentContextOf(parent))
    },
    async shutdown() {
      const current = provider
      provider = undefined
      tracer = undefined
      await current?.shutdown()
    },
  }
}

/** The OpenTelemetry context of an accepted (already validated) trace context; the root context without one. */
function parentContextOf(parent: TraceContext) {
  const remote = remoteSpanContextOf(parent)
  if (remote === undefined) return ROOT_CONTEXT
  const { tracestate } = parent
  return trace.setSpanContext(
    ROOT_CONTEXT,
    tracestate === undefined ? remote : { ...remote, traceState: createTraceState(tracestate) },
  )
}

/**
 * The trace context a frame passes on: the gateway's span when it made one, else the sender's own, so a trace
 * continues through a gateway that does not export spans.
 */
export function traceContextOf(span: Span | undefined, incoming: TraceContext): TraceContext {
  return span === undefined ? pickTraceContext(incoming) : traceContextOfSpan(span.spanContext())
}

/** The trace id of a trace context, so the audit rows of a traced message name its OpenTelemetry trace. */
export function traceIdOf(incoming: TraceContext): string | undefined {
  return incoming.traceparent === undefined ? undefined : parseTraceparent(incoming.traceparent)?.traceId
}

/** Ends a span, marked as an error with the code the caller got (`error.type`) unless `outcome` is `ok`. */
export function endSpan(span: Span | undefined, outcome: string): void {
  if (span === undefined) return
  if (outcome !== 'ok') {
    span.setAttribute('error.type', outcome)
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome })
  }
  span.end()
}
