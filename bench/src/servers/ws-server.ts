/**
 * Baseline: the least a WebSocket fan-out server can do. Every publication is parsed, wrapped and
 * serialised once into one Buffer, then written to every other open socket, and acknowledged to the
 * publisher (so the publisher paces itself exactly as it does against Parley). No channels, auth,
 * validation beyond JSON, history or audit.
 *
 * Cross-node (`BENCH_REDIS_URL`, see cluster-env.ts): each node also publishes that Buffer once on its own
 * Redis pub/sub channel (`<prefix>from:<node>`, fire and forget, before the acknowledgement) and writes
 * what the other nodes publish (one pattern subscription) to its own sockets: the floor of a relay.
 */
import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { WebSocket, WebSocketServer } from 'ws'
import { clusterFromEnv } from './cluster-env.js'
import { healthHandler, portFromArgs } from './health.js'

const port = portFromArgs()
const cluster = clusterFromEnv()
const server = createServer()
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1024 * 1024 })
server.on(
  'request',
  healthHandler(() => wss.clients.size),
)

function broadcast(encoded: Buffer, except: WebSocket | undefined): number {
  let delivered = 0
  for (const client of wss.clients) {
    if (client === except || client.readyState !== WebSocket.OPEN) continue
    client.send(encoded, { binary: false })
    delivered++
  }
  return delivered
}

/** Publishes to the other nodes; undefined on a single node. */
let relay: ((encoded: Buffer) => void) | undefined
if (cluster) {
  const ownChannel = `${cluster.prefix}from:${cluster.nodeId}`
  const publisher = new Redis(cluster.redisUrl, { lazyConnect: true })
  const subscriber = new Redis(cluster.redisUrl, { lazyConnect: true })
  for (const client of [publisher, subscriber]) {
    client.on('error', (error) => process.stderr.write(`ws relay: redis: ${error.message}\n`))
  }
  await Promise.all([publisher.connect(), subscriber.connect()])
  subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    if (channel.toString() !== ownChannel) broadcast(message, undefined)
  })
  // Listening only once subscribed, so the bench's /health check means "relaying".
  await subscriber.psubscribe(`${cluster.prefix}from:*`)
  relay = (encoded) => {
    publisher.publish(ownChannel, encoded).catch(() => {
      // Shows as missing deliveries at the other nodes.
    })
  }
}

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
    relay?.(encoded)
    const delivered = broadcast(encoded, socket)
    socket.send(JSON.stringify({ type: 'ack', id, delivered }))
  })
})

server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
