import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fuzzParameters, fuzzTimeoutMs } from '../support/fuzz-settings.js'
import { fuzzText, garbageText, hostileValue, mutatedObject, safeStringify } from '../support/fuzz-values.js'
import { type ProcessWatch, prototypePolluted, watchProcess } from '../support/fuzz-watch.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { mcpClient, rawMcp } from './mcp-clients.js'

const SHARED = 'shared-gateway-token-0123'
const MAX_BODY = 32 * 1024
const BODY_RUNS = 150
const AUTH = { authorization: `Bearer ${SHARED}` }

/** Valid JSON-RPC messages of /mcp: the seeds the mutations start from. */
const SEEDS = [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } },
  },
  { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
  { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'calc__add', arguments: { a: 1, b: 2 } } },
  {
    jsonrpc: '2.0',
    id: 4,
    method: 'tools/call',
    params: { name: 'calc__add', arguments: { a: 1, b: 2 }, _meta: { progressToken: 't' } },
  },
  { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'nobody__nothing', arguments: {} } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 6, method: 'ping' },
] as const

/** What any answer of /mcp must be: a typed JSON-RPC or envelope error, a result, or 202 for notifications. */
function expectTypedAnswer(answer: { status: number; body: unknown }): void {
  expect([200, 202, 400, 404, 405, 406, 413, 415]).toContain(answer.status)
  if (answer.status === 202) return
  if (typeof answer.body === 'string') {
    // An SSE answer (a call with a progress token): its events carry JSON-RPC messages.
    expect(answer.body).toMatch(/^(event: message\n)?(id: .*\n)?data: \{"/m)
    return
  }
  const body = answer.body as { jsonrpc?: string; error?: { code?: unknown }; result?: unknown }
  if (answer.status === 413) {
    expect(body).toMatchObject({ error: { code: 'payload_too_large' } })
    return
  }
  if (Array.isArray(body)) return
  if (answer.status !== 200) expect(typeof body.error?.code).toBe('number')
  else expect(body.result !== undefined || typeof body.error?.code === 'number').toBe(true)
}

describe('/mcp under hostile input', () => {
  const fixture = new SdkFixture()
  let watch: ProcessWatch

  beforeAll(async () => {
    watch = watchProcess()
    await fixture.start({ authToken: SHARED, http: { maxBodySize: MAX_BODY } })
    const calc = fixture.agent({
      agentId: 'calc',
      authToken: SHARED,
      capabilities: [
        {
          name: 'add',
          inputSchema: {
            type: 'object',
            properties: { a: { type: 'number' }, b: { type: 'number' } },
            required: ['a', 'b'],
            additionalProperties: false,
          },
        },
      ],
    })
    calc.handle((data) => {
      const { a, b } = data as { a: number; b: number }
      return { sum: a + b }
    })
    await calc.connect()
  })

  afterAll(async () => {
    watch.stop()
    await fixture.dispose()
  })

  it('answers malformed JSON, non-JSON-RPC bodies and unknown methods with typed JSON-RPC errors', async () => {
    const notJson = await rawMcp(fixture.url, '{"jsonrpc":', AUTH)
    expect(notJson.status).toBe(400)
    expect(notJson.body).toMatchObject({ error: { code: -32700, data: { code: 'invalid_json' } } })
    const notRpc = await rawMcp(fixture.url, '{"hello":"world"}', AUTH)
    expect(notRpc.status).toBe(400)
    expect(notRpc.body).toMatchObject({ error: { code: -32700 } })
    for (const notAnObject of ['null', '[null]', '7', '"text"']) {
      const answer = await rawMcp(fixture.url, notAnObject, AUTH)
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({ error: { code: expect.any(Number) } })
    }
    const unknownMethod = await rawMcp(fixture.url, '{"jsonrpc":"2.0","id":9,"method":"tools/explode"}', AUTH)
    expect(unknownMethod.body).toMatchObject({ id: 9, error: { code: -32601 } })
  })

  it('refuses an unknown tool and arguments that fail the input schema with InvalidParams, naming the problem', async () => {
    const unknown = await rawMcp(fixture.url, safeStringify(SEEDS[4]), AUTH)
    expect(unknown.body).toMatchObject({ id: 5, error: { code: -32602, data: { code: 'not_found' } } })
    const badArguments = await rawMcp(
      fixture.url,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'calc__add', arguments: { a: 'one', b: 2 } },
      }),
      AUTH,
    )
    expect(badArguments.body).toMatchObject({ id: 7, error: { code: -32602, data: { code: 'bad_request' } } })
    expect((badArguments.body as { error: { message: string } }).error.message).toContain('/a must be number')
  })

  it('answers a body over http.maxBodySize with 413 payload_too_large', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'calc__add', arguments: { a: 1, b: 2, pad: 'x'.repeat(MAX_BODY) } },
    })
    const answer = await rawMcp(fixture.url, big, AUTH)
    expect(answer.status).toBe(413)
    expect(answer.body).toMatchObject({ error: { code: 'payload_too_large' } })
  })

  it(
    'gives every generated body a typed answer, never a 5xx, and keeps serving the SDK client afterwards',
    async () => {
      const bodies = fc.oneof(
        garbageText(MAX_BODY),
        mutatedObject(SEEDS, 2_000).map((message) => fuzzText(safeStringify(message))),
        fc
          .array(mutatedObject(SEEDS, 500), { minLength: 0, maxLength: 4 })
          .map((batch) => fuzzText(safeStringify(batch))),
        hostileValue(2_000).map((args) =>
          fuzzText(
            safeStringify({
              jsonrpc: '2.0',
              id: 10,
              method: 'tools/call',
              params: { name: 'calc__add', arguments: args },
            }),
          ),
        ),
      )
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          expectTypedAnswer(await rawMcp(fixture.url, body.text, AUTH))
          expect(watch.newProblems()).toEqual([])
        }),
        fuzzParameters(BODY_RUNS),
      )
      const client: Client = await mcpClient(`${fixture.url}/mcp`, SHARED)
      try {
        expect(await client.callTool({ name: 'calc__add', arguments: { a: 2, b: 3 } })).toMatchObject({
          structuredContent: { sum: 5 },
        })
      } finally {
        await client.close()
      }
      expect(watch.problems()).toEqual([])
      expect(prototypePolluted()).toBe(false)
    },
    fuzzTimeoutMs(BODY_RUNS),
  )
})
