/**
 * What the baseline servers share: an HTTP server on the port given as the argument, with `GET /health`,
 * and the WebSocket (`ws`) or Socket.IO server on it, configured alike for every baseline.
 */
import { createServer, type Server as HttpServer } from 'node:http'
import { type ServerOptions, type Socket, Server as SocketIoServer } from 'socket.io'
import { type RawData, WebSocketServer } from 'ws'
import { healthHandler, portFromArgs } from './health.js'

/** A `ws` server on `/ws`. */
export function wsBaseline(): { server: HttpServer; wss: WebSocketServer; listen(): void } {
  const port = portFromArgs()
  const server = createServer()
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1024 * 1024 })
  server.on(
    'request',
    healthHandler(() => wss.clients.size),
  )
  return { server, wss, listen: () => listen(server, port) }
}

/**
 * A Socket.IO server, WebSocket transport only and no compression, to match the other targets; `extra` adds
 * options (the storm scenario's connection state recovery).
 */
export function socketIoBaseline(extra: Partial<ServerOptions> = {}): {
  server: HttpServer
  io: SocketIoServer
  listen(): void
} {
  const port = portFromArgs()
  const server = createServer()
  // Registered before Socket.IO attaches, which then routes only its own paths away from this handler.
  server.on(
    'request',
    healthHandler(() => io.engine.clientsCount),
  )
  const io = new SocketIoServer(server, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    // Long heartbeats, as configured for the gateway, so pings do not disturb the measurement; Socket.IO's
    // defaults (25 s interval) where the bench measures idle connections (BENCH_HEARTBEAT=default).
    ...(process.env.BENCH_HEARTBEAT === 'default' ? {} : { pingInterval: 120_000, pingTimeout: 60_000 }),
    ...extra,
  })
  return { server, io, listen: () => listen(server, port) }
}

type Ack = (result: Record<string, unknown>) => void

/**
 * The Socket.IO baselines' events: `subscribe` (channel, ack) joins the channel's room and acknowledges with
 * `{ channel }`; `publish` ({ channel, data }, ack) hands the publication to `broadcast` and acknowledges with
 * what it returns.
 */
export function onSocketIoEvents(
  socket: Socket,
  broadcast: (channel: string, data: unknown) => Record<string, unknown>,
): void {
  socket.on('subscribe', (channel: unknown, ack: unknown) => {
    if (typeof channel !== 'string') return
    socket.join(channel)
    if (typeof ack === 'function') (ack as Ack)({ channel })
  })
  socket.on('publish', (message: unknown, ack: unknown) => {
    if (typeof message !== 'object' || message === null) return
    const { channel, data } = message as { channel?: unknown; data?: unknown }
    if (typeof channel !== 'string') return
    const result = broadcast(channel, data)
    if (typeof ack === 'function') (ack as Ack)(result)
  })
}

/** A received `ws` message as a JSON object; undefined for anything else. */
export function parseObject(raw: RawData): Record<string, unknown> | undefined {
  let frame: unknown
  try {
    frame = JSON.parse(raw.toString())
  } catch {
    return undefined
  }
  return typeof frame === 'object' && frame !== null ? (frame as Record<string, unknown>) : undefined
}

function listen(server: HttpServer, port: number): void {
  server.listen(port, '127.0.0.1')
  process.on('SIGTERM', () => process.exit(0))
}
