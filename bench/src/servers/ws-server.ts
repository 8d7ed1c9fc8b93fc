/**
 * Baseline: the least a WebSocket fan-out server can do. Every publication is parsed, wrapped and
 * serialised once into one Buffer, then written to every other open socket, and acknowledged to the
 * publisher (so the publisher paces itself exactly as it does against Parley). No channels, auth,
 * validation beyond JSON, history or audit.
 */
import { createServer } from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'
import { healthHandler, portFromArgs } from './health.js'

const port = portFromArgs()
const server = createServer()
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1024 * 1024 })
server.on(
  'request',
  healthHandler(() => wss.clients.size),
)

wss.on('connection', (socket) => {
  socket.on('error', () => {})
  socket.on('message', (raw) => {
    let frame: unknown
    try {
      frame = JSON.parse(raw.toString())
    } catch {
      return
    }
    if (typeof frame !== 'object' || frame === null) return
    const { type, id, data } = frame as { type?: unknown; id?: unknown; data?: unknown }
    if (type === 'ready') {
      socket.send(JSON.stringify({ type: 'ack', id }))
      return
    }
    if (type !== 'publish') return
    const encoded = Buffer.from(JSON.stringify({ type: 'message', data, timestamp: Date.now() }))
    let delivered = 0
    for (const client of wss.clients) {
      if (client === socket || client.readyState !== WebSocket.OPEN) continue
      client.send(encoded, { binary: false })
      delivered++
    }
    socket.send(JSON.stringify({ type: 'ack', id, delivered }))
  })
})

server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
