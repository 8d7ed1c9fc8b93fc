import { ADMIN_ENDPOINTS, type AdminEndpoint, HttpError } from '@parley/protocol'
import { z } from 'zod'
import { GATEWAY_ENDPOINTS } from './gateway-endpoints.js'
import { type EndpointResponse, GATEWAY_TAGS, type HttpEndpoint } from './http-endpoint.js'

/**
 * The OpenAPI 3.1 document of the gateway's HTTP API, built from the two endpoint tables (`ADMIN_ENDPOINTS`,
 * `GATEWAY_ENDPOINTS`) with zod's own JSON Schema export: the schemas that validate requests and type answers
 * are the ones documented. Served at `/api/openapi.json`; linted with Redocly and checked against the routes
 * the app answers by `pnpm check` (scripts/check-api.ts).
 */

type JsonSchema = Record<string, unknown>
type Operation = Record<string, unknown>
export interface OpenApiDocument {
  openapi: '3.1.1'
  info: Record<string, unknown>
  servers?: { url: string }[]
  tags: { name: string; description: string }[]
  paths: Record<string, Record<string, Operation>>
  components: Record<string, Record<string, unknown>>
}

/** Sections of the admin API in the reference, by the path segment after `/api/admin/`. */
const ADMIN_TAGS: Record<string, string> = {
  whoami: 'Admin: sessions',
  sessions: 'Admin: sessions',
  connections: 'Admin: cluster',
  channels: 'Admin: cluster',
  nodes: 'Admin: cluster',
  presence: 'Admin: cluster',
  timeseries: 'Admin: cluster',
  agents: 'Admin: agents and access',
  policies: 'Admin: agents and access',
  grants: 'Admin: agents and access',
  'agent-keys': 'Admin: agents and access',
  tokens: 'Admin: agents and access',
  a2a: 'Admin: A2A and MCP upstreams',
  mcp: 'Admin: A2A and MCP upstreams',
  audit: 'Admin: audit',
  'agent-map': 'Admin: audit',
  conversations: 'Admin: audit',
  deliveries: 'Admin: deliveries',
  dlq: 'Admin: deliveries',
  pairing: 'Admin: pairing',
  devices: 'Admin: pairing',
}
/** The section of an admin path no entry above names (a new resource). */
const ADMIN_FALLBACK_TAG = 'Admin'
const ADMIN_TAG_DESCRIPTIONS: Record<string, string> = {
  'Admin: sessions': 'Dashboard sessions and the calling admin.',
  'Admin: cluster': 'The running cluster: connections, channels, nodes, presence.',
  'Admin: agents and access': 'Agents, policies, grants, API tokens and agent keys.',
  'Admin: A2A and MCP upstreams': 'External A2A agents, their tasks, and upstream MCP servers.',
  'Admin: audit': 'The audit log and conversations.',
  'Admin: deliveries': 'Delivery statistics and the dead-letter queue.',
  'Admin: pairing': 'Chat pairing and device pairing.',
  [ADMIN_FALLBACK_TAG]: 'Other admin endpoints.',
}

const ERROR_RESPONSE = { $ref: '#/components/responses/Error' }

/** JSON Schema of a zod schema as sent on the wire (the input side: before defaults and transforms). */
function jsonSchema(schema: z.ZodType, defs: Map<string, unknown>, prefix: string): JsonSchema {
  const {
    $schema: _,
    $defs,
    ...rest
  } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as JsonSchema & { $defs?: Record<string, unknown> }
  if ($defs === undefined) return rest
  // Recursive schemas refer to their own `$defs`, which OpenAPI keeps under components.
  for (const [name, def] of Object.entries($defs)) defs.set(`${prefix}_${name}`, def)
  const text = JSON.stringify(rest).replaceAll('"#/$defs/', `"#/components/schemas/${prefix}_`)
  return JSON.parse(text) as JsonSchema
}

function pathParameters(path: string): JsonSchema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }))
}

/** The fields of an object schema as parameters `in` the query string or the headers. */
function fieldParameters(object: JsonSchema, location: 'query' | 'header'): JsonSchema[] {
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((object.required ?? []) as string[])
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema
    return {
      name,
      in: location,
      required: required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    }
  })
}

/** The common shape of an operation, before its responses. */
interface OperationInput {
  operationId: string
  method: string
  path: string
  summary: string
  description?: string | undefined
  tag: string
  security: Record<string, string[]>[]
  query?: z.ZodType | undefined
  headers?: z.ZodType | undefined
  body?: { schema: z.ZodType; optional?: boolean | undefined } | undefined
  responses: Record<number, EndpointResponse>
  failure?: z.ZodType | undefined
}

function operation(input: OperationInput, defs: Map<string, unknown>): Operation {
  const schemaOf = (schema: z.ZodType, part: string) =>
    jsonSchema(schema, defs, `${input.operationId}_${part}`)
  const parameters = [
    ...pathParameters(input.path),
    ...(input.query === undefined ? [] : fieldParameters(schemaOf(input.query, 'query'), 'query')),
    ...(input.headers === undefined ? [] : fieldParameters(schemaOf(input.headers, 'headers'), 'header')),
  ]
  const responses: Record<string, unknown> = {}
  for (const [status, answer] of Object.entries(input.responses)) {
    const media = [
      ...(answer.schema === undefined ? [] : [{ contentType: answer.contentType, schema: answer.schema }]),
      ...(answer.alternatives ?? []),
    ]
    responses[status] = {
      description: answer.description,
      ...(media.length === 0
        ? {}
        : {
            content: Object.fromEntries(
              media.map((one, index) => [
                one.contentType ?? 'application/json',
                { schema: schemaOf(one.schema, index === 0 ? status : `${status}_${index}`) },
              ]),
            ),
          }),
    }
  }
  const failure =
    input.failure === undefined
      ? ERROR_RESPONSE
      : {
          description: 'A refusal or failure',
          content: { 'application/json': { schema: schemaOf(input.failure, 'failure') } },
        }
  responses['4XX'] = failure
  responses['5XX'] = failure
  return {
    operationId: input.operationId,
    summary: input.summary,
    ...(input.description === undefined ? {} : { description: input.description }),
    tags: [input.tag],
    security: input.security,
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(input.body === undefined
      ? {}
      : {
          requestBody: {
            required: input.body.optional !== true,
            content: { 'application/json': { schema: schemaOf(input.body.schema, 'body') } },
          },
        }),
    responses,
  }
}

const SECURITY: Record<HttpEndpoint['auth'] | 'admin', Record<string, string[]>[]> = {
  none: [],
  bearer: [{ bearerToken: [] }],
  // An empty requirement: the call may come without a credential.
  optional: [{}, { bearerToken: [] }],
  admin: [{ adminToken: [] }],
}

/** The admin table's `:name` parameters in OpenAPI's `{name}` form. */
export function openApiPath(pattern: string): string {
  return pattern.replace(/:(\w+)/g, '{$1}')
}

function adminOperation(name: string, endpoint: AdminEndpoint): OperationInput {
  const isAdmin = endpoint.path.startsWith('/api/admin/')
  const segment = endpoint.path.split('/')[3] ?? ''
  const status = endpoint.status ?? 200
  return {
    operationId: name,
    method: endpoint.method,
    path: openApiPath(endpoint.path),
    summary: endpoint.summary,
    description: endpoint.description,
    tag: isAdmin ? (ADMIN_TAGS[segment] ?? ADMIN_FALLBACK_TAG) : 'Health',
    security: isAdmin ? SECURITY.admin : SECURITY.none,
    query: endpoint.query,
    body:
      endpoint.body === undefined
        ? undefined
        : { schema: endpoint.body, ...(endpoint.bodyOptional === true ? { optional: true } : {}) },
    responses: {
      [status]:
        status === 204 ? { description: 'Done' } : { description: 'Success', schema: endpoint.response },
    },
  }
}

function gatewayOperation(name: string, endpoint: HttpEndpoint): OperationInput {
  return {
    operationId: name,
    ...endpoint,
    security: SECURITY[endpoint.auth],
  }
}

/** The document, without `servers` (the route adds the gateway's public URL). */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const inputs = [
    ...Object.entries(ADMIN_ENDPOINTS).map(([name, endpoint]) => adminOperation(name, endpoint)),
    ...Object.entries(GATEWAY_ENDPOINTS).map(([name, endpoint]) => gatewayOperation(name, endpoint)),
  ]
  const defs = new Map<string, unknown>()
  const paths: OpenApiDocument['paths'] = {}
  const operationIds = new Set<string>()
  for (const input of inputs) {
    if (operationIds.has(input.operationId)) throw new Error(`two endpoints are named ${input.operationId}`)
    operationIds.add(input.operationId)
    paths[input.path] ??= {}
    const methods = paths[input.path] as Record<string, Operation>
    const method = input.method.toLowerCase()
    if (methods[method] !== undefined) throw new Error(`${input.method} ${input.path} is described twice`)
    methods[method] = operation(input, defs)
  }
  const usedTags = new Set(inputs.map((input) => input.tag))
  const tagDescriptions: Record<string, string> = { ...GATEWAY_TAGS, ...ADMIN_TAG_DESCRIPTIONS }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Parley gateway HTTP API',
      version,
      description:
        'The HTTP side of a Parley gateway: health and metrics, the transports, the A2A and MCP faces, and the ' +
        'admin API. Errors come in one envelope, `{ "error": { code, message, retryable, retryAfterMs? } }`, ' +
        'with the status of the error code (docs/protocol.md); the A2A and MCP faces answer their own ' +
        "protocols' errors where those define them.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: Object.keys(tagDescriptions)
      .filter((name) => usedTags.has(name))
      .map((name) => ({ name, description: tagDescriptions[name] as string })),
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The admin token, a dashboard session (`ps_…`, from `POST /api/admin/sessions`), or an API token ' +
            'or JWT of role `admin`.',
        },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token or JWT of any role (`parley token create`).',
        },
      },
      schemas: { ErrorEnvelope: jsonSchema(HttpError, defs, 'ErrorEnvelope'), ...Object.fromEntries(defs) },
      responses: {
        Error: {
          description: 'The error envelope, with the status of its code',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
        },
      },
    },
  }
}
