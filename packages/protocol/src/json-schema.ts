import { z } from 'zod'
import { ClientFrame, RESULT_SCHEMAS, ServerFrame } from './frames.js'
import { PROTOCOL_VERSION } from './version.js'

/**
 * The protocol as one JSON Schema document, so clients in other languages can validate frames.
 * `ClientFrame` and `ServerFrame` are the two unions; `results` holds each request's `reply.result`.
 */
export function protocolJsonSchema(): Record<string, unknown> {
  const results: Record<string, unknown> = {}
  for (const [type, schema] of Object.entries(RESULT_SCHEMAS)) {
    results[type] = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `Parley protocol v${PROTOCOL_VERSION}`,
    $defs: {
      ClientFrame: z.toJSONSchema(ClientFrame, { io: 'input', unrepresentable: 'any' }),
      ServerFrame: z.toJSONSchema(ServerFrame, { io: 'input', unrepresentable: 'any' }),
      results,
    },
  }
}
