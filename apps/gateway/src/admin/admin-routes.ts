import {
  ADMIN_ENDPOINTS,
  type AdminEndpoint,
  type AdminEndpointName,
  type AdminEndpoints,
  type EndpointParams,
} from '@parley/protocol'
import type { Context } from 'hono'
import type { z } from 'zod'
import { GatewayError } from '../errors.js'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { parseBody } from './request-body.js'

type QueryOf<E> = E extends { query: infer Q extends z.ZodType } ? z.output<Q> : never
type BodyOf<E> = E extends { body: infer B extends z.ZodType } ? z.output<B> : never
type AnswerOf<E extends AdminEndpoint> = z.input<E['response']>

/** What a handler gets besides the context: the path parameters, and the query and body read on demand. */
export interface AdminRequest<N extends AdminEndpointName> {
  params: EndpointParams<AdminEndpoints[N]>
  /** The query string parsed with the table's schema; a refused one throws `bad_request` naming the fields. */
  query(): QueryOf<AdminEndpoints[N]>
  /**
   * The JSON body parsed with the table's schema; a refused one throws `bad_request`. Read on demand, so a
   * handler can name its audit action or refuse the caller before it looks at the body.
   */
  body(): Promise<BodyOf<AdminEndpoints[N]>>
}

/** Answers the endpoint's body; the table's status (200, 201, or 204 without a body) goes with it. */
export type AdminHandler<N extends AdminEndpointName> = (
  c: Context<GatewayEnv>,
  request: AdminRequest<N>,
) => Promise<AnswerOf<AdminEndpoints[N]>> | AnswerOf<AdminEndpoints[N]>

export type AdminHandlers<N extends AdminEndpointName> = { [Name in N]: AdminHandler<Name> }

/**
 * Mounts the handlers of some entries of `ADMIN_ENDPOINTS` with the table's method and path, in table order
 * (where paths overlap, the first entry wins). The admin guard, body limit and error envelope are the app's.
 */
export function mountAdminRoutes<N extends AdminEndpointName>(
  app: GatewayApp,
  handlers: AdminHandlers<N>,
): void {
  const byName = handlers as unknown as Partial<Record<AdminEndpointName, AdminHandler<N>>>
  for (const name of Object.keys(ADMIN_ENDPOINTS) as AdminEndpointName[]) {
    const handler = byName[name]
    if (handler === undefined) continue
    const endpoint: AdminEndpoint = ADMIN_ENDPOINTS[name]
    app.on(endpoint.method, endpoint.path, async (c) => {
      const request = {
        params: c.req.param(),
        query: () => parseQuery(endpoint, c.req.query()),
        body: async () =>
          parseBody(endpoint.body as z.ZodType, await readJson(c, endpoint), subjectOf(endpoint)),
      } as unknown as AdminRequest<N>
      const answer = await handler(c, request)
      if (endpoint.status === 204) return c.body(null, 204)
      return c.json(answer as object, endpoint.status ?? 200)
    })
  }
}

function subjectOf(endpoint: AdminEndpoint): string {
  return endpoint.subject ?? 'request'
}

function parseQuery(endpoint: AdminEndpoint, query: Record<string, string>): unknown {
  const parsed = (endpoint.query as z.ZodType).safeParse(query)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`)
  throw new GatewayError('bad_request', `invalid ${subjectOf(endpoint)}: ${problems.join('; ')}`)
}

async function readJson(c: Context<GatewayEnv>, endpoint: AdminEndpoint): Promise<unknown> {
  const text = await c.req.text()
  if (endpoint.bodyOptional === true && text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new GatewayError('bad_request', `invalid ${subjectOf(endpoint)}: the body is not JSON`)
  }
}
