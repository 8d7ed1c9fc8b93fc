import { ADMIN_ENDPOINTS, CreateTokenRequest, PollSendRequest } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GATEWAY_ENDPOINTS } from './gateway-endpoints.js'
import { buildOpenApiDocument, openApiPath } from './openapi-document.js'

const document = buildOpenApiDocument('9.9.9')
type Operation = {
  operationId: string
  tags: string[]
  security: unknown[]
  parameters?: { name: string; in: string; required: boolean }[]
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> }
  responses: Record<string, unknown>
}
const operation = (path: string, method: string) => document.paths[path]?.[method.toLowerCase()] as Operation

/** The JSON Schema a request schema is documented with: the wire (input) side, as the document uses. */
function wire(schema: z.ZodType): unknown {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })
  return rest
}

describe('the OpenAPI document', () => {
  it('has one operation per entry of both tables, named by the entry', () => {
    const ids = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((op) => op.operationId as string),
    )
    expect(ids.sort()).toEqual([...Object.keys(ADMIN_ENDPOINTS), ...Object.keys(GATEWAY_ENDPOINTS)].sort())
  })

  it('documents request bodies with the very schemas the routes parse them with', () => {
    const createToken = operation('/api/admin/tokens', 'POST')
    expect(createToken.requestBody?.content['application/json']?.schema).toEqual(wire(CreateTokenRequest))
    expect(operation('/poll/send', 'POST').requestBody?.content['application/json']?.schema).toEqual(
      wire(PollSendRequest),
    )
    // An optional body (`bodyOptional`: an empty one stands for `{}`) is not required.
    expect(operation('/api/admin/sessions', 'POST').requestBody?.required).toBe(false)
  })

  it('turns path parameters and query fields into parameters', () => {
    const revoke = operation(openApiPath(ADMIN_ENDPOINTS.revokePairedSender.path), 'DELETE')
    expect(revoke.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
      ['channelType', 'path', true],
      ['senderId', 'path', true],
    ])
    const tasks = operation('/api/admin/a2a/tasks', 'GET')
    expect(tasks.parameters?.find((p) => p.name === 'owner')).toMatchObject({ in: 'query', required: true })
    expect(tasks.parameters?.find((p) => p.name === 'pageSize')).toMatchObject({ required: false })
  })

  it('guards the admin API with the admin credential and leaves health public', () => {
    expect(operation('/api/admin/tokens', 'GET').security).toEqual([{ adminToken: [] }])
    expect(operation('/health', 'GET').security).toEqual([])
    expect(operation('/agents', 'GET').security).toEqual([{ bearerToken: [] }])
    // The WebSocket upgrade may carry a bearer token, or none.
    expect(operation('/ws', 'GET').security).toEqual([{}, { bearerToken: [] }])
  })

  it('answers 4xx and 5xx with the error envelope unless the entry names its own failure', () => {
    expect(operation('/api/admin/tokens', 'GET').responses['4XX']).toEqual({
      $ref: '#/components/responses/Error',
    })
    expect(operation('/mcp', 'POST').responses['4XX']).not.toEqual({ $ref: '#/components/responses/Error' })
    expect(operation('/api/admin/policies/{id}', 'DELETE').responses['204']).toEqual({ description: 'Done' })
  })

  it('defines, with a description, every section its operations are in', () => {
    const tagNames = document.tags.filter((tag) => tag.description !== '').map((tag) => tag.name)
    for (const methods of Object.values(document.paths)) {
      for (const op of Object.values(methods)) expect(tagNames).toContain((op.tags as string[])[0])
    }
  })
})
