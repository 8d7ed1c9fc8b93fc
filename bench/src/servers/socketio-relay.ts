/**
 * Baseline for the request scenario: a request relay on Socket.IO events and acks. Agents emit `register`
 * (acknowledged); a caller's `request` event goes to the next agent in turn as a `request` event with an
 * ack callback, and the agent's ack answers the caller's ack. WebSocket transport only and no compression,
 * as in socketio-server.ts; no capabilities, policies, timeouts or audit.
 */
import type { Socket } from 'socket.io'
import { socketIoBaseline } from './baseline-server.js'

const { io, listen } = socketIoBaseline()

type Ack = (result: unknown) => void
const agents: Socket[] = []
let nextAgent = 0

io.on('connection', (socket) => {
  socket.on('disconnect', () => {
    const index = agents.indexOf(socket)
    if (index >= 0) agents.splice(index, 1)
  })
  socket.on('register', (_details: unknown, ack: unknown) => {
    if (!agents.includes(socket)) agents.push(socket)
    if (typeof ack === 'function') (ack as Ack)({ registered: true })
  })
  socket.on('request', (data: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return
    const agent = agents[nextAgent++ % Math.max(1, agents.length)]
    if (agent === undefined) {
      ;(ack as Ack)({ error: 'no_route' })
      return
    }
    agent.emit('request', data, (reply: unknown) => (ack as Ack)(reply))
  })
})

listen()
