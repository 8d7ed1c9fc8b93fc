import { z } from 'zod'

/**
 * The shape of one entry of the admin endpoint table (`ADMIN_ENDPOINTS`), and the path helpers every consumer
 * of the table shares: the gateway mounts its routes from it, the dashboard builds its calls and its proxy
 * from it.
 */

export const ADMIN_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type AdminMethod = (typeof ADMIN_METHODS)[number]

export interface AdminEndpoint {
  /** One line for the API reference (the OpenAPI operation's summary); the entry's name is its operationId. */
  summary: string
  /** More for the API reference, when the summary is not enough. */
  description?: string
  method: AdminMethod
  /** The gateway path; a `:name` segment is a parameter (one path segment, URL-encoded). */
  path: string
  /** Schema of the query string (its values arrive as strings). */
  query?: z.ZodType
  /** Schema of the JSON body. */
  body?: z.ZodType
  /** An empty body stands for `{}`, so the body schema's defaults apply. */
  bodyOptional?: boolean
  /** What the query or body is called in a refusal: `invalid <subject>: <field>: <problem>`. */
  subject?: string
  /** Schema of the answer; `NoContent` for a 204. */
  response: z.ZodType
  /** Status of a success; 200 when absent. */
  status?: 200 | 201 | 204
}

/** The answer of an endpoint that answers 204 without a body. */
export const NoContent = z.undefined()

/** Declares one entry, keeping its literal path and schemas in the type. */
export function adminEndpoint<const E extends AdminEndpoint>(endpoint: E): E {
  return endpoint
}

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never

/** The parameters of a path pattern: `'/a/:id/b/:name'` → `{ id: string; name: string }`. */
export type PathParams<P extends string> = { [Name in ParamNames<P>]: string }

export type EndpointParams<E extends AdminEndpoint> = PathParams<E['path']>
/** What a caller passes as the query (before the schema's defaults and coercions). */
export type EndpointQuery<E extends AdminEndpoint> = E extends { query: infer Q extends z.ZodType }
  ? z.input<Q>
  : undefined
/** What a caller sends as the body (before the schema's defaults). */
export type EndpointBody<E extends AdminEndpoint> = E extends { body: infer B extends z.ZodType }
  ? z.input<B>
  : undefined
/** The parsed answer. */
export type EndpointResponse<E extends AdminEndpoint> = z.output<E['response']>

/** The names of a path pattern's parameters, in order. */
export function pathParamNames(pattern: string): string[] {
  return pattern
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1))
}

/** The path of a pattern with its parameters filled in, each URL-encoded as one segment. */
export function fillPath(pattern: string, params: Readonly<Record<string, string>>): string {
  return pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment
      const value = params[segment.slice(1)]
      if (value === undefined) throw new Error(`missing path parameter ${segment} of ${pattern}`)
      return encodeURIComponent(value)
    })
    .join('/')
}

/**
 * The decoded parameters of `path` when it matches `pattern` segment by segment, else undefined. An empty
 * segment or one that does not decode never matches a parameter.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split('/')
  const actual = path.split('/')
  if (expected.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (const [index, segment] of expected.entries()) {
    const value = actual[index] as string
    if (!segment.startsWith(':')) {
      if (segment !== value) return undefined
      continue
    }
    if (value === '') return undefined
    try {
      params[segment.slice(1)] = decodeURIComponent(value)
    } catch {
      return undefined
    }
  }
  return params
}

/** The first entry of `table` (in table order) with this method whose pattern matches `path`. */
export function findEndpoint<T extends Readonly<Record<string, AdminEndpoint>>>(
  table: T,
  method: string,
  path: string,
): { name: keyof T & string; endpoint: T[keyof T]; params: Record<string, string> } | undefined {
  for (const [name, endpoint] of Object.entries(table) as [keyof T & string, T[keyof T]][]) {
    if (endpoint.method !== method) continue
    const params = matchPath(endpoint.path, path)
    if (params !== undefined) return { name, endpoint, params }
  }
  return undefined
}
