import { PollCloseRequest, PollRecvRequest, PollSendRequest } from '@parley/protocol'
import type { Context, MiddlewareHandler } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { GatewayConfig } from '../config.js'
import { createForwardedAddressResolver } from '../http/client-address.js'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { isOriginAllowed } from '../http/origin.js'
import { bearerToken } from '../security/secrets.js'
import { pollingCors } from './polling-cors.js'
import type { PollAnswer, PollingSessions, PollOperation } from './polling-sessions.js'

export interface PollingRouteDeps {
  config: GatewayConfig
  sessions: PollingSessions
  isDraining: () => boolean
}

/**
 * What `/poll/*` runs before anything else, the body limit included (see `createHttpApp`): browsers held to
 * `allowedOrigins` as for the upgrade, then CORS for the allowed ones, so that every answer a page gets, a 413
 * too, can be read by it.
 */
export function pollingEntry(
  config: Pick<GatewayConfig, 'allowedOrigins'>,
  logger: Logger,
): { path: string; handlers: MiddlewareHandler<GatewayEnv>[] } {
  const checkOrigin: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    const origin = c.req.header('origin')
    if (origin !== undefined && !isOriginAllowed(origin, config.allowedOrigins)) {
      logger.warn({ origin }, 'refused a poll request from a browser origin that is not allowed')
      return errorResponse(c, 'forbidden', 'this origin may not use the gateway')
    }
    await next()
  }
  return { path: '/poll/*', handlers: [checkOrigin, pollingCors(config.allowedOrigins)] }
}

/**
 * `POST /poll/open|send|recv|close`: the WebSocket protocol over HTTP long-polling. The session id travels in
 * the body only (request logs carry the path), and browsers are held to `allowedOrigins` as for the upgrade;
 * those origins get CORS answers (preflight included), since a page is rarely served by the gateway itself.
 */
export function registerPollingRoutes(app: GatewayApp, deps: PollingRouteDeps): void {
  const { config, sessions } = deps
  // Behind a trusted proxy the client is named by its X-Forwarded-For (the failed-auth limit counts it).
  const clientAddress = createForwardedAddressResolver(config.trustedProxies)

  app.post('/poll/open', (c) => {
    if (deps.isDraining()) return errorResponse(c, 'shutting_down', 'the gateway is shutting down', 1000)
    const incoming = c.env?.incoming
    const opened = sessions.open({
      remoteAddress: clientAddress(incoming?.socket.remoteAddress, c.req.header('x-forwarded-for')),
      userAgent: c.req.header('user-agent') ?? null,
      origin: c.req.header('origin') ?? null,
      upgradeToken: bearerToken(c.req.header('authorization')),
    })
    return c.json(opened)
  })

  app.post('/poll/send', (c) => operate(c, PollSendRequest, (request) => ({ op: 'send', request })))
  app.post('/poll/recv', (c) => operate(c, PollRecvRequest, (request) => ({ op: 'recv', request })))
  app.post('/poll/close', (c) => operate(c, PollCloseRequest, (request) => ({ op: 'close', request })))

  async function operate<S extends z.ZodType>(
    c: Context,
    schema: S,
    toOperation: (request: z.infer<S>) => PollOperation,
  ): Promise<Response> {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return errorResponse(c, 'bad_request', 'the body must be JSON')
    }
    const parsed = schema.safeParse(body)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.')
      return errorResponse(c, 'bad_request', `${where}: ${issue?.message ?? 'invalid'}`)
    }
    const answer: PollAnswer = await sessions.handle(toOperation(parsed.data))
    return c.json(answer.body as object, answer.status as ContentfulStatusCode)
  }
}
