import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { readEnvConfig } from '../env.js'
import { createGatewayTracing, noTracing, traceContextOf } from './gateway-tracing.js'

describe('gateway tracing', () => {
  it('reads the endpoint and service name from the standard OpenTelemetry variables', () => {
    const config = parseConfig(
      readEnvConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'edge-gw' }),
    )
    expect(config.tracing).toEqual({ otlpEndpoint: 'http://collector:4318', serviceName: 'edge-gw' })
  })

  it('is off, with no provider or exporter, when no endpoint is configured', () => {
    const tracing = createGatewayTracing({ config: parseConfig({}), nodeId: 'n1', version: '0' })
    expect(tracing).toBe(noTracing)
    expect(tracing.exporting).toBe(false)
    expect(() => tracing.start('x', 0, {}, {})).toThrow(/disabled/)
  })

  it('passes the sender’s trace context on unchanged when it made no span', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    expect(traceContextOf(undefined, { traceparent, tracestate: 'a=1' })).toEqual({
      traceparent,
      tracestate: 'a=1',
    })
    expect(traceContextOf(undefined, {})).toEqual({})
  })

  it('starts a span that continues the sender’s trace when an endpoint is configured', async () => {
    const tracing = createGatewayTracing({
      config: parseConfig({ tracing: { otlpEndpoint: 'http://127.0.0.1:1' } }),
      nodeId: 'n1',
      version: '0',
    })
    expect(tracing.enabled).toBe(false)
    await tracing.open()
    expect(tracing.exporting).toBe(true)
    const span = tracing.start(
      'publish alerts',
      3,
      {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      {},
    )
    const { traceparent } = traceContextOf(span, {})
    expect(traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(traceparent).not.toContain('00f067aa0ba902b7')
    // Nothing was ended: shutting down sends nothing to the unreachable endpoint.
    await tracing.shutdown()
  })
})
