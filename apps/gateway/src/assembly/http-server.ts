import { readFile } from 'node:fs/promises'
import type { Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { Logger } from 'pino'
import { WebSocketServer } from 'ws'
import { ConfigError, type GatewayConfig } from '../config.js'
import type { GatewayApp } from '../http/create-app.js'

/**
 * Listens with the app on the configured host and port (TLS when `sslCert` and `sslKey` are set), with the
 * WebSocket upgrade and the Node server's timeouts from the config.
 */
export async function listen(
  app: GatewayApp,
  config: GatewayConfig,
  logger: Logger,
): Promise<{ server: HttpServer | HttpsServer; port: number }> {
  const tls = await readTls(config)
  const wss = new WebSocketServer({
    noServer: true,
    // Frames between maxPayload and this get a typed error; beyond it ws closes with 1009.
    maxPayload: 4 * config.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  })
  const headersTimeout = Math.round(config.http.headersTimeout * 1000)
  const serverOptions = {
    // Slow clients (slowloris) are answered 408 and closed; the check runs often enough to honour the
    // timeout within a second, or within a quarter of it when it is shorter.
    headersTimeout,
    requestTimeout: Math.round(config.http.requestTimeout * 1000),
    keepAliveTimeout: Math.round(config.http.keepAliveTimeout * 1000),
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.round(headersTimeout / 4))),
  }
  const created = createAdaptorServer({
    fetch: app.fetch,
    hostname: config.host,
    websocket: { server: wss },
    // limitBody drains refused bodies itself: the adapter's own cleanup would cut the socket after 0.5 s.
    autoCleanupIncoming: false,
    serverOptions: tls === undefined ? serverOptions : { ...serverOptions, ...tls },
    ...(tls === undefined ? {} : { createServer: createHttpsServer }),
  }) as HttpServer | HttpsServer
  await new Promise<void>((resolve, reject) => {
    created.once('error', reject)
    created.listen({ port: config.port, host: config.host, backlog: config.http.backlog }, () => {
      created.off('error', reject)
      resolve()
    })
  })
  created.on('error', (error) => logger.error({ err: error }, 'server error'))
  return { server: created, port: (created.address() as AddressInfo).port }
}

/** Stops accepting and ends the server's connections, idle keep-alive ones included. */
export async function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    // Idle keep-alive HTTP sockets would otherwise hold the port open.
    server.closeAllConnections()
  })
}

async function readTls(config: GatewayConfig): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (config.sslCert === undefined || config.sslKey === undefined) return undefined
  const read = async (path: string, option: string) => {
    try {
      return await readFile(path)
    } catch (error) {
      throw new ConfigError(
        `${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      )
    }
  }
  return { cert: await read(config.sslCert, 'sslCert'), key: await read(config.sslKey, 'sslKey') }
}

/** A host usable in a URL: wildcard binds are reached through loopback, IPv6 literals get brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
