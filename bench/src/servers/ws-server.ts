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
import { Redis } from 'ioredis'
import { WebSocket } from 'ws'
import { parseObject, wsBaseline } from './baseline-server.js'
import { clusterFromEnv } from './cluster-env.js'

const cluster = clusterFromEnv()
const { wss, listen } = wsBaseline()

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
    const frame = parseObject(raw)
    if (frame === undefined) return
    const { type, id, data } = frame
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

listen()
