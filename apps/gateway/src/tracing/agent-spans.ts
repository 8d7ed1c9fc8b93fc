import { type Span, SpanKind } from '@opentelemetry/api'
import type { DirectTarget, TraceContext } from '@parley/protocol'
import type { GatewayTracing } from './gateway-tracing.js'

// Span names and attributes of the OpenTelemetry GenAI agent and messaging semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/, …/messaging/messaging-spans/).

/** What a span names when the target is a capability: the capability until an instance is chosen. */
function targetLabel(target: DirectTarget): string {
  return typeof target === 'string' ? target : (target.agentId ?? target.capability)
}

/**
 * `invoke_agent {agent}` (kind CLIENT): the gateway invoking an agent for its caller, from the request (or
 * stream open) to its answer (or end). Undefined when tracing is off.
 */
export function startInvokeAgentSpan(
  tracing: GatewayTracing,
  parent: TraceContext,
  fields: { target: DirectTarget; correlationId?: string; hops?: number; operation: 'request' | 'stream' },
): Span | undefined {
  if (!tracing.enabled) return undefined
  const capability = typeof fields.target === 'string' ? undefined : fields.target.capability
  return tracing.start(`invoke_agent ${targetLabel(fields.target)}`, SpanKind.CLIENT, parent, {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': targetLabel(fields.target),
    'parley.operation': fields.operation,
    ...(fields.correlationId === undefined ? {} : { 'parley.correlation_id': fields.correlationId }),
    ...(capability === undefined ? {} : { 'parley.capability': capability }),
    ...(fields.hops === undefined ? {} : { 'parley.hops': fields.hops }),
  })
}

/** The instance that took the request: the span is renamed after the agent (a capability target had none). */
export function spanRouted(span: Span | undefined, route: { agentId: string; instanceId: string }): void {
  if (span === undefined) return
  span.updateName(`invoke_agent ${route.agentId}`)
  span.setAttribute('gen_ai.agent.id', route.agentId)
  span.setAttribute('gen_ai.agent.name', route.agentId)
  span.setAttribute('parley.instance_id', route.instanceId)
}

/**
 * A messaging span of the gateway: `publish {channel}` (PRODUCER) for a channel publication, `send {recipient}`
 * (PRODUCER) for a direct message or `agent_send`. Undefined when tracing is off.
 */
export function startMessagingSpan(
  tracing: GatewayTracing,
  parent: TraceContext,
  fields: { operation: 'publish' | 'send'; destination: string; messageId?: string },
): Span | undefined {
  if (!tracing.enabled) return undefined
  return tracing.start(`${fields.operation} ${fields.destination}`, SpanKind.PRODUCER, parent, {
    'messaging.system': 'parley',
    'messaging.operation.name': fields.operation,
    'messaging.operation.type': 'send',
    'messaging.destination.name': fields.destination,
    ...(fields.messageId === undefined ? {} : { 'messaging.message.id': fields.messageId }),
  })
}
