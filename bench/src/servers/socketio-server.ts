/**
 * Baseline: Socket.IO with a room per channel. `subscribe` joins the room, `publish` is a room broadcast
 * (Socket.IO encodes a broadcast packet once for all recipients) acknowledged to the publisher.
 * WebSocket transport only and no compression, to match the other targets.
 */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { healthHandler, portFromArgs } from './health.js'

const port = portFromArgs()
const server = createServer()
// Registered before Socket.IO attaches, which then routes only its own paths away from this handler.
server.on(
  'request',
  healthHandler(() => io.engine.clientsCount),
)
const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  // Long heartbeats, as configured for the gateway, so pings do not disturb the measurement.
  pingInterval: 120_000,
  pingTimeout: 60_000,
})

type Ack = (result: Record<string, unknown>) => void

io.on('connection', (socket) => {
  socket.on('subscribe', (channel: unknown, ack: unknown) => {
    if (typeof channel !== 'string') return
    socket.join(channel)
    if (typeof ack === 'function') (ack as Ack)({ channel })
  })
  socket.on('publish', (message: unknown, ack: unknown) => {
    if (typeof message !== 'object' || message === null) return
    const { channel, data } = message as { channel?: unknown; data?: unknown }
    if (typeof channel !== 'string') return
    socket.to(channel).emit('message', data)
    const delivered = io.sockets.adapter.rooms.get(channel)?.size ?? 0
    if (typeof ack === 'function') (ack as Ack)({ channel, delivered, timestamp: Date.now() })
  })
})

server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
