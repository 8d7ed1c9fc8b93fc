import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One span as an OTLP/HTTP JSON export carries it, with its resource's `service.instance.id` / `service.name`. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: number
  service: string
  instance: string | undefined
  attributes: Record<string, unknown>
  statusCode: number
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}
interface OtlpAttribute {
  key: string
  value: OtlpValue
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: {
      spans?: {
        traceId: string
        spanId: string
        parentSpanId?: string
        name: string
        kind: number
        attributes?: OtlpAttribute[]
        status?: { code?: number }
      }[]
    }[]
  }[]
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue
  }
  return out
}

/**
 * A tiny OTLP/HTTP trace receiver on port 0: accepts `POST /v1/traces` with the JSON encoding (what
 * `@opentelemetry/exporter-trace-otlp-http` sends) and keeps every span. Anything else gets 404 / 415.
 */
export async function startOtlpReceiver(): Promise<{
  url: string
  spans: ReceivedSpan[]
  requests: () => number
  close: () => Promise<void>
}> {
  const spans: ReceivedSpan[] = []
  let requests = 0
  const server: Server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end()
      return
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      response.writeHead(415).end()
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests += 1
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes)
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
              name: span.name,
              kind: span.kind,
              service: String(resource['service.name']),
              instance: resource['service.instance.id'] as string | undefined,
              attributes: attributesOf(span.attributes),
              statusCode: span.status?.code ?? 0,
            })
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
