import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import {
  pickTraceContext,
  remoteSpanContextOf,
  type TraceContext,
  traceContextOfSpan,
} from '@parley/protocol'
import { CLIENT_NAME, CLIENT_VERSION } from './version.js'

/**
 * W3C trace context between the SDK and the OpenTelemetry API (the API only: spans are recorded and exported
 * when the application registered an OpenTelemetry SDK; otherwise every call here is a cheap no-op).
 * Outgoing frames carry the active span's context; a handler runs in the context of the frame it handles, in
 * a span of its own, so the calls it makes continue the caller's trace.
 */

/** The trace context of a span context, or nothing when it is not a valid one. */
function fieldsOf(spanContext: ReturnType<Span['spanContext']> | undefined): TraceContext {
  return spanContext === undefined || !isSpanContextValid(spanContext)
    ? NO_TRACE_CONTEXT
    : traceContextOfSpan(spanContext)
}

const NO_TRACE_CONTEXT: TraceContext = Object.freeze({})

/**
 * The SDK's tracer. A proxy: it records through whatever provider the application registers, also later, and is
 * a no-op until then.
 */
const tracer = trace.getTracer(CLIENT_NAME, CLIENT_VERSION)

/**
 * The trace context an outgoing frame carries: the active OpenTelemetry span's, else `fallback`'s (the
 * handler context a call was given as `{ context }`, for applications without an OpenTelemetry context
 * manager).
 */
export function outgoingTraceContext(fallback?: TraceContext): TraceContext {
  const active = fieldsOf(trace.getSpanContext(context.active()))
  if (active.traceparent !== undefined || fallback === undefined) return active
  return pickTraceContext(fallback)
}

/** The OpenTelemetry context of an incoming frame's trace context (the active one when it has none). */
export function contextOf(incoming: TraceContext): Context {
  const remote = remoteSpanContextOf(incoming)
  if (remote === undefined) return context.active()
  const { tracestate } = incoming
  return trace.setSpanContext(
    ROOT_CONTEXT,
    tracestate === undefined ? remote : { ...remote, traceState: createTraceState(tracestate) },
  )
}

export interface HandlerSpan {
  name: string
  kind: SpanKind
  attributes: Attributes
}

/** What calls made inside a request handler inherit from the request: its trace id and hop count. */
export interface InheritedRequest {
  traceId: string
  hops: number
}

const HANDLED_REQUEST = createContextKey('parley.handled_request')

/**
 * The request whose handler is running, from the active OpenTelemetry context: calls made inside a handler
 * count one hop more without being given `{ context }` (needs an OpenTelemetry context manager, as any
 * OpenTelemetry SDK set-up registers).
 */
export function handledRequest(): InheritedRequest | undefined {
  return context.active().getValue(HANDLED_REQUEST) as InheritedRequest | undefined
}

/**
 * Runs a handler in a span that continues the incoming frame's trace, with that span active (so the
 * handler's own spans and calls are its children). `fn` gets the span's trace context, for handler contexts.
 * The span records a thrown error and ends when `fn` settles.
 */
export async function inHandlerSpan<T>(
  incoming: TraceContext,
  spec: HandlerSpan,
  fn: (trace: TraceContext) => T | Promise<T>,
  request?: InheritedRequest,
): Promise<T> {
  const remote = contextOf(incoming)
  const parent = request === undefined ? remote : remote.setValue(HANDLED_REQUEST, request)
  const span = tracer.startSpan(spec.name, { kind: spec.kind, attributes: spec.attributes }, parent)
  const own = fieldsOf(span.spanContext())
  // A non-recording span (no OpenTelemetry SDK registered) still passes the caller's context on.
  const handed = span.isRecording() || incoming.traceparent === undefined ? own : incoming
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(handed))
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    })
    throw error
  } finally {
    span.end()
  }
}

/**
 * Runs `fn` (the listeners of a message event) with the message's trace context active, so spans and calls
 * they start synchronously continue the sender's trace. Without a `traceparent` it simply runs `fn`.
 */
export function withIncomingContext<T>(incoming: TraceContext, fn: () => T): T {
  if (incoming.traceparent === undefined) return fn()
  return context.with(contextOf(incoming), fn)
}

/**
 * Runs the listeners of a received message in a `process {destination}` span (kind CONSUMER, messaging
 * conventions) that continues the sender's trace, with that span active. A message without a `traceparent`
 * just runs them: no span, nothing allocated. A promise `fn` returns ends the span when it settles.
 */
export function inProcessSpan<T>(incoming: TraceContext, destination: string, fn: () => T): T {
  if (incoming.traceparent === undefined) return fn()
  const parent = contextOf(incoming)
  const span = tracer.startSpan(
    `process ${destination}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'parley',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.destination.name': destination,
      },
    },
    parent,
  )
  const failed = (error: unknown): void => {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    })
    span.end()
  }
  let result: T
  try {
    result = context.with(trace.setSpan(parent, span), fn)
  } catch (error) {
    failed(error)
    throw error
  }
  if (result instanceof Promise) result.then(() => span.end(), failed)
  else span.end()
  return result
}
