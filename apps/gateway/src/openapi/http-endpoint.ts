import type { z } from 'zod'

/**
 * One entry of the gateway's table of HTTP routes outside the admin API (`GATEWAY_ENDPOINTS`). The admin API
 * has its own table in `@parley/protocol` (`ADMIN_ENDPOINTS`), which the dashboard shares; the OpenAPI
 * document is built from both (openapi-document.ts), and `pnpm check` fails on a route the app answers that
 * neither table describes (route-coverage.ts).
 */
export interface HttpEndpoint {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** The documented path, OpenAPI style: `{name}` is a parameter (`/a2a/{agentId}/tasks/{taskId}:cancel`). */
  path: string
  /**
   * The Hono pattern of the route that serves it, when it is not `path` with `{name}` as `:name`: one handler
   * may serve several documented paths (`/a2a/:agentId/:action` serves `message:send` and `message:stream`).
   */
  route?: string
  summary: string
  description?: string
  tag: GatewayTag
  /** `none`: public; `bearer`: an API token or JWT of any role; `optional`: public, a bearer token is read. */
  auth: 'none' | 'bearer' | 'optional'
  /** Schema of the query string (values arrive as strings). */
  query?: z.ZodType
  /** Request headers the route reads beyond the credential (an object schema, by header name). */
  headers?: z.ZodType
  /** The request body: JSON unless `contentType` says otherwise; required unless `optional`. */
  body?: { schema: z.ZodType; optional?: boolean }
  /** The answers by status. A JSON body unless `contentType` is given; no `schema` for an empty body. */
  responses: Record<number, EndpointResponse>
  /** The body of any other 4xx/5xx answer; the error envelope (`HttpError`) when absent. */
  failure?: z.ZodType
}

export interface EndpointResponse {
  description: string
  schema?: z.ZodType
  contentType?: string
  /** Other media types the same status may come as (JSON-RPC answered as server-sent events). */
  alternatives?: ReadonlyArray<{ contentType: string; schema: z.ZodType }>
}

/** The reference's sections for the routes of this table (the admin API's are in openapi-document.ts). */
export const GATEWAY_TAGS = {
  Health: 'Liveness, readiness and Prometheus metrics: public, for load balancers and scrapers.',
  Transport:
    'The WebSocket entry and its HTTP long-polling fallback; both carry the frames of docs/protocol.md.',
  Agents: 'The agents a caller may reach.',
  A2A: 'The A2A face (docs/a2a.md): agent cards, JSON-RPC and the HTTP+JSON binding, one per agent.',
  MCP: 'The MCP face (docs/mcp.md): Streamable HTTP, stateless.',
  Pairing: "Owner approval links (the link's signed token is the credential).",
  Reference: 'This document and its reference page.',
} as const
export type GatewayTag = keyof typeof GATEWAY_TAGS

/** Declares one entry, keeping its literal path in the type. */
export function httpEndpoint<const E extends HttpEndpoint>(endpoint: E): E {
  return endpoint
}

/** The Hono route pattern an entry is served by. */
export function routeOf(endpoint: HttpEndpoint): string {
  return endpoint.route ?? endpoint.path.replace(/\{(\w+)\}/g, ':$1')
}
