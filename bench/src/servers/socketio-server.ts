/**
 * Baseline: Socket.IO with a room per channel. `subscribe` joins the room, `publish` is a room broadcast
 * (Socket.IO encodes a broadcast packet once for all recipients) acknowledged to the publisher.
 * WebSocket transport only and no compression, to match the other targets (see baseline-server.ts).
 *
 * Cross-node (`BENCH_REDIS_URL`, see cluster-env.ts): the official `@socket.io/redis-adapter` on ioredis,
 * its key the run's prefix, so a room broadcast also reaches the room's sockets on the other nodes.
 */
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { onSocketIoEvents, socketIoBaseline } from './baseline-server.js'
import { clusterFromEnv } from './cluster-env.js'

const cluster = clusterFromEnv()
const { io, listen } = socketIoBaseline()

if (cluster) {
  const pubClient = new Redis(cluster.redisUrl, { lazyConnect: true })
  const subClient = new Redis(cluster.redisUrl, { lazyConnect: true })
  for (const client of [pubClient, subClient]) {
    client.on('error', (error) => process.stderr.write(`socket.io adapter: redis: ${error.message}\n`))
  }
  await Promise.all([pubClient.connect(), subClient.connect()])
  io.adapter(createAdapter(pubClient, subClient, { key: `${cluster.prefix}socket.io` }))
  // Replies come in order on the subscriber connection: this answers once the adapter's subscriptions
  // are in place, so the bench's /health check means "relaying".
  await subClient.ping()
}

io.on('connection', (socket) => {
  onSocketIoEvents(socket, (channel, data) => {
    socket.to(channel).emit('message', data)
    const delivered = io.sockets.adapter.rooms.get(channel)?.size ?? 0
    return { channel, delivered, timestamp: Date.now() }
  })
})

listen()
