/**
 * Baseline for the request scenario: the least a WebSocket request relay can do. Agents greet with
 * `register`; a caller's `{ id, data }` goes to the next agent in turn as `{ cid, data }` (`cid` numbered
 * by the relay), and the agent's `{ cid, data }` goes back to that caller as `{ id, data }`. No validation
 * beyond JSON, no capabilities, policies, timeouts or audit.
 */
import type { WebSocket } from 'ws'
import { parseObject, wsBaseline } from './baseline-server.js'

const { wss, listen } = wsBaseline()

const agents: WebSocket[] = []
let nextAgent = 0
/** Requests waiting for their agent's answer, by relay correlation id. */
const pending = new Map<number, { caller: WebSocket; id: unknown }>()
let nextCid = 1

wss.on('connection', (socket) => {
  let isAgent = false
  socket.on('error', () => {})
  socket.on('close', () => {
    const index = agents.indexOf(socket)
    if (index >= 0) agents.splice(index, 1)
  })
  socket.on('message', (raw) => {
    const frame = parseObject(raw)
    if (frame === undefined) return
    const { type, id, cid, data } = frame
    if (isAgent) {
      if (typeof cid !== 'number') return
      const request = pending.get(cid)
      if (request === undefined) return
      pending.delete(cid)
      request.caller.send(JSON.stringify({ id: request.id, data }))
      return
    }
    if (type === 'register') {
      isAgent = true
      agents.push(socket)
      socket.send(JSON.stringify({ type: 'ack', id }))
      return
    }
    if (type === 'ready') {
      socket.send(JSON.stringify({ type: 'ack', id }))
      return
    }
    const agent = agents[nextAgent++ % Math.max(1, agents.length)]
    if (agent === undefined) {
      socket.send(JSON.stringify({ id, error: 'no_route' }))
      return
    }
    const relayCid = nextCid++
    pending.set(relayCid, { caller: socket, id })
    agent.send(JSON.stringify({ cid: relayCid, data }))
  })
})

listen()
