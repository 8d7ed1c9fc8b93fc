import { NextResponse } from 'next/server'
import type { z } from 'zod'
import { readEnv } from '../env'
import { readJsonBody } from './access-forms'
import { isParam, type ParamKind, paramMessage } from './access-params'
import { gatewayClientFor, sessionSecretOf } from './dashboard-gateway'
import type { GatewayClient } from './gateway-client'
import { failed, type GatewayResult, httpStatusOf } from './gateway-result'
import { isSameOriginRequest } from './same-origin'
import { clearedSessionCookieOptions, isHttpsRequest, SESSION_COOKIE } from './session-cookie'

/** The session secret of a request's cookie; undefined when there is none (or it is not one). */
export function sessionTokenOf(request: Request): string | undefined {
  return sessionSecretOf(request.headers.get('cookie'))
}

/** Answers with a `GatewayResult` as JSON; the browser parses it with `gatewayResultSchema`. */
export function answerWithResult(request: Request, result: GatewayResult<unknown>): Response {
  const response = NextResponse.json(result, {
    status: httpStatusOf(result),
    headers: { 'cache-control': 'no-store' },
  })
  if (!result.ok && result.failure.kind === 'unauthorized') {
    // The session no longer works: drop it so the next page load goes straight to the login page.
    const secure = isHttpsRequest(new URL(request.url), request.headers)
    response.cookies.set(SESSION_COOKIE, '', clearedSessionCookieOptions(secure))
  }
  return response
}

/** Body of every `/api/gw/*` route: call the gateway with the session's token, answer with the result. */
export async function answerFromGateway(
  request: Request,
  call: (gateway: GatewayClient) => Promise<GatewayResult<unknown>>,
): Promise<Response> {
  const token = sessionTokenOf(request)
  // The proxy already refuses these routes without a cookie; checked again so no route handler ever calls
  // the gateway (not even its public `/health`) for someone who is not logged in.
  if (token === undefined) {
    return answerWithResult(request, failed({ kind: 'unauthorized', message: 'not logged in' }))
  }
  const gateway = gatewayClientFor(readEnv(), token, request.headers)
  return answerWithResult(request, await call(gateway))
}

/**
 * Body of the `/api/gw/*` routes that change something on the gateway (requeue, purge). The session cookie
 * is `SameSite=Strict`, and a cross-site request is refused here too, before the gateway is called: a page
 * elsewhere must not be able to purge the operator's dead-letter queue.
 */
export function answerActionFromGateway(
  request: Request,
  call: (gateway: GatewayClient) => Promise<GatewayResult<unknown>>,
): Promise<Response> | Response {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal(request)
  return answerFromGateway(request, call)
}

/**
 * Body of the state-changing `/api/gw/*` routes that carry a JSON body (create a token, register an agent
 * key, approve a device): refused cross-site first, then the body is parsed with the protocol schema (400
 * naming the wrong fields) before the gateway is called with the parsed body, never the raw one.
 */
export async function answerActionWithBody<T>(
  request: Request,
  schema: z.ZodType<T>,
  call: (gateway: GatewayClient, body: T) => Promise<GatewayResult<unknown>>,
): Promise<Response> {
  if (!isSameOriginRequest(request.headers)) return crossSiteRefusal(request)
  const body = await readJsonBody(request, schema)
  if (!body.ok) return answerInvalid(request, 'invalid_body', body.message)
  return answerFromGateway(request, (gateway) => call(gateway, body.request))
}

function crossSiteRefusal(request: Request): Response {
  return answerWithResult(
    request,
    failed({
      kind: 'http',
      status: 403,
      code: 'cross_site_request',
      message: 'cross-site requests are refused',
    }),
  )
}

/** The second argument of a route under an `[id]` segment. */
export type IdRouteContext = { params: Promise<{ id: string }> }

/**
 * Reads the route's `[id]` and answers with `answer(id)`; an id out of the bounds of `kind` answers 400
 * `invalid_id` before anything else.
 */
export async function answerForId(
  request: Request,
  context: IdRouteContext,
  answer: (id: string) => Promise<Response> | Response,
  kind: ParamKind = 'id',
): Promise<Response> {
  const { id } = await context.params
  if (!isParam(kind, id)) return answerInvalid(request, 'invalid_id', paramMessage(kind))
  return answer(id)
}

/** A 400 answer for a request the route refused before calling the gateway. */
export function answerInvalid(request: Request, code: string, message: string): Response {
  return answerWithResult(request, failed({ kind: 'http', status: 400, code, message }))
}
