import { upgradeWebSocket } from '@hono/node-server'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import type { GatewayConfig } from '../config.js'
import { createForwardedAddressResolver } from '../http/client-address.js'
import type { GatewayApp } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { isOriginAllowed } from '../http/origin.js'
import type { Connection } from '../peers/connection.js'
import { bearerToken } from '../security/secrets.js'
import type { Hub } from './hub.js'
import { WebSocketConnectionSocket } from './websocket-socket.js'

export interface WebSocketRouteDeps {
  config: GatewayConfig
  hub: Hub
  logger: Logger
  isDraining: () => boolean
}

/** `GET /ws`: checks the upgrade request (draining, browser origin), then hands the socket to the hub. */
export function registerWebSocketRoutes(app: GatewayApp, deps: WebSocketRouteDeps): void {
  const { config, hub, logger } = deps
  // Behind a trusted proxy the client is named by its X-Forwarded-For (the failed-auth limit counts it).
  const clientAddress = createForwardedAddressResolver(config.trustedProxies)

  app.get(
    '/ws',
    async (c, next) => {
      if (deps.isDraining()) return errorResponse(c, 'shutting_down', 'the gateway is shutting down', 1000)
      const origin = c.req.header('origin')
      if (origin !== undefined && !isOriginAllowed(origin, config.allowedOrigins)) {
        logger.warn({ origin }, 'refused WebSocket upgrade from a browser origin that is not allowed')
        return errorResponse(c, 'forbidden', 'this origin may not open a WebSocket')
      }
      if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
        return errorResponse(c, 'bad_request', 'this endpoint expects a WebSocket upgrade')
      }
      await next()
    },
    upgradeWebSocket(
      (c) => {
        // Read here, so the closures below (kept as long as the socket) hold what they need, not the Hono
        // context and its request: a few KB per open connection.
        const stream = c.env?.incoming?.socket
        const opening = {
          remoteAddress: clientAddress(stream?.remoteAddress, c.req.header('x-forwarded-for')),
          userAgent: c.req.header('user-agent') ?? null,
          origin: c.req.header('origin') ?? null,
          upgradeToken: bearerToken(c.req.header('authorization')),
        }
        let connection: Connection | undefined
        return {
          onOpen(_event, ws) {
            // The adapter hands us the `ws` WebSocket it created from our WebSocketServer.
            const socket = ws.raw as unknown as WebSocket
            connection = hub.open({ socket: new WebSocketConnectionSocket(socket, stream), ...opening })
          },
          onMessage(event) {
            if (connection !== undefined) hub.receive(connection, event.data)
          },
          onClose(event) {
            if (connection !== undefined) hub.closed(connection, event.code)
          },
          onError(event) {
            const log = connection?.logger ?? logger
            log.debug({ event: event.type }, 'websocket error')
          },
        }
      },
      { onError: (error: unknown) => logger.error({ err: error }, 'websocket handler failed') },
    ),
  )
}
