/**
 * Baseline of the connections scenario: the least a `ws` server holding subscribed connections does. A
 * `subscribe` adds the socket to its channel's set (acknowledged); a `publish` is serialised once and written
 * to the channel's sockets (acknowledged with the count). Heartbeat as in ws's README: every 30 s (Parley's
 * default interval) each socket that answered the last protocol ping gets a new one, one that did not is cut.
 * One timer for all sockets, as Parley's.
 */
import type { WebSocket } from 'ws'
import { parseObject, wsBaseline } from './baseline-server.js'

const HEARTBEAT_INTERVAL_MS = 30_000

const { wss, listen } = wsBaseline()
const channels = new Map<string, Set<WebSocket>>()
const alive = new WeakSet<WebSocket>()

wss.on('connection', (socket) => {
  alive.add(socket)
  let channel: string | undefined
  socket.on('error', () => {})
  socket.on('pong', () => alive.add(socket))
  socket.on('close', () => {
    if (channel !== undefined) channels.get(channel)?.delete(socket)
  })
  socket.on('message', (raw) => {
    const frame = parseObject(raw)
    if (frame === undefined || typeof frame.channel !== 'string') return
    const { type, id, data } = frame
    if (type === 'subscribe') {
      if (channel !== undefined) channels.get(channel)?.delete(socket)
      channel = frame.channel
      let members = channels.get(channel)
      if (members === undefined) {
        members = new Set()
        channels.set(channel, members)
      }
      members.add(socket)
      socket.send(JSON.stringify({ type: 'ack', id }))
      return
    }
    if (type !== 'publish') return
    const encoded = Buffer.from(JSON.stringify({ type: 'message', channel: frame.channel, data }))
    let delivered = 0
    for (const member of channels.get(frame.channel) ?? []) {
      member.send(encoded, { binary: false })
      delivered++
    }
    socket.send(JSON.stringify({ type: 'ack', id, delivered }))
  })
})

setInterval(() => {
  for (const socket of wss.clients) {
    if (!alive.has(socket)) {
      socket.terminate()
      continue
    }
    alive.delete(socket)
    socket.ping()
  }
}, HEARTBEAT_INTERVAL_MS)

listen()
