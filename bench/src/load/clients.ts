import type { ClientFrame } from '@parley/protocol'
import { PROTOCOL_VERSION } from '@parley/protocol'
import { type RawData, WebSocket } from 'ws'
import type { BenchPayload } from '../ipc.js'
import type { TargetName } from '../options.js'

/**
 * One load-generator client per target, all on the same `ws` client library, so the per-delivery cost
 * on the load side (one WebSocket message event + one JSON.parse) is the same for every target and the
 * comparison is about the servers. Socket.IO is spoken at the wire level (Engine.IO v4 + Socket.IO
 * packets) for that reason: its official client adds an event emitter, a decoder and buffering layers
 * per message that would burn the CPU the server needs on a 2-core machine.
 */
export interface TargetClient {
  subscriber(options: ConnectOptions, handlers: SubscriberHandlers): Promise<BenchConnection>
  publisher(options: ConnectOptions, handlers: PublisherHandlers): Promise<PublisherConnection>
}

export interface ConnectOptions {
  baseUrl: string
  channel: string
  clientId: string
  timeoutMs: number
  /** The loopback address to connect from (127.0.0.x); the system picks one when absent. */
  localAddress?: string
}

export interface SubscriberHandlers {
  onPayload(payload: BenchPayload): void
  /** The server closed (or the network dropped) an established connection. */
  onClose(code: number): void
}

export interface PublisherHandlers {
  onAck(seq: number, delivered: number | undefined): void
  onError(seq: number | undefined, code: string): void
  onClose(code: number): void
}

export interface BenchConnection {
  close(): void
}

export interface PublisherConnection extends BenchConnection {
  publish(payload: BenchPayload): void
}

export function clientFor(target: TargetName): TargetClient {
  switch (target) {
    case 'parley':
      return parleyClient
    case 'ws':
      return wsClient
    case 'socketio':
      return socketIoClient
    case 'a2a':
      throw new Error('the a2a baseline serves A2A calls only (the a2a scenario)')
  }
}

// ---------------------------------------------------------------- shared plumbing

export type Json = Record<string, unknown>

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Narrows a received payload with a few typeof checks: zod on every delivery would dominate client CPU. */
function asPayload(value: unknown): BenchPayload | undefined {
  if (!isRecord(value) || typeof value.seq !== 'number' || typeof value.t !== 'number') return undefined
  return value as unknown as BenchPayload
}

export function text(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString() : data.toString()
}

export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

export function wsUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}${path}`
}

/**
 * Opens a socket and runs a set-up conversation: `step` sees each message until it returns `'done'`.
 * Rejects on close, error or timeout so a stuck handshake never hangs the bench.
 */
export function openAndHandshake(
  url: string,
  timeoutMs: number,
  begin: (socket: WebSocket) => void,
  step: (socket: WebSocket, message: string) => 'done' | 'continue',
  /** The loopback address to connect from (127.0.0.x), so many connections do not run out of ports. */
  localAddress?: string,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // No compression offer: every target then sends plain frames, as the gateway does by default.
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      ...(localAddress === undefined ? {} : { localAddress }),
    })
    const fail = (error: Error) => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.terminate()
      reject(error)
    }
    const timer = setTimeout(
      () => fail(new Error(`set-up of ${url} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('error', (error) => fail(error))
    socket.on('close', (code, reason) =>
      fail(new Error(`${url} closed during set-up: ${code} ${reason.toString()}`.trim())),
    )
    socket.on('open', () => begin(socket))
    socket.on('message', (data) => {
      let outcome: 'done' | 'continue'
      try {
        outcome = step(socket, text(data))
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (outcome !== 'done') return
      clearTimeout(timer)
      socket.removeAllListeners()
      resolve(socket)
    })
  })
}

/** Installs the steady-state listeners once the handshake is over. */
export function attach(
  socket: WebSocket,
  onMessage: (message: string) => void,
  onClose: (code: number) => void,
): void {
  socket.on('message', (data) => onMessage(text(data)))
  socket.on('close', (code) => onClose(code))
  // Errors are followed by 'close', which is where they are counted.
  socket.on('error', () => {})
}

export function closer(socket: WebSocket): BenchConnection {
  return {
    close() {
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.terminate()
    },
  }
}

// ---------------------------------------------------------------- Parley (the gateway's own protocol)

export function sendFrame(socket: WebSocket, frame: ClientFrame): void {
  socket.send(JSON.stringify(frame))
}

/** Where a connection goes and who it says it is (the fan-out clients add their channel). */
export interface HandshakeOptions {
  baseUrl: string
  clientId: string
  timeoutMs: number
  localAddress?: string
}

/**
 * `hello` → `welcome`, then `next` (a request such as `subscribe` or `agent_register`) → its `reply`.
 * Any `error` during set-up rejects.
 */
export async function parleyHandshake(
  options: HandshakeOptions,
  next: Extract<ClientFrame, { id: string }> | undefined,
): Promise<WebSocket> {
  // Named in a time-out, so a gateway that ignores a frame (e.g. one without agent support) says which.
  let waitingFor = 'welcome'
  return openAndHandshake(
    wsUrl(options.baseUrl, '/ws'),
    options.timeoutMs,
    (socket) =>
      sendFrame(socket, {
        type: 'hello',
        id: 'hello',
        protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION },
        client: { name: 'parley-bench', version: '0.1.0' },
        clientId: options.clientId,
      }),
    (socket, message) => {
      const frame = parseJson(message)
      if (!isRecord(frame)) return 'continue'
      if (frame.type === 'error')
        throw new Error(`gateway refused set-up: ${String(frame.code)} ${String(frame.message)}`)
      if (frame.type === 'ping') answerParleyPing(socket, frame)
      if (frame.type === 'welcome') {
        if (next === undefined) return 'done'
        sendFrame(socket, next)
        waitingFor = `the reply to ${next.type}`
        return 'continue'
      }
      return frame.type === 'reply' && frame.id === next?.id ? 'done' : 'continue'
    },
    options.localAddress,
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (waiting for ${waitingFor})`)
  })
}

/** The gateway reaps connections that leave two heartbeats unanswered, so every bench client answers. */
export function answerParleyPing(socket: WebSocket, frame: Json): void {
  sendFrame(socket, typeof frame.ts === 'number' ? { type: 'pong', ts: frame.ts } : { type: 'pong' })
}

/**
 * Installs the steady-state listeners of a Parley connection: each message is parsed, pings are answered,
 * and every other frame goes to `onFrame`.
 */
export function attachParley(
  socket: WebSocket,
  onFrame: (frame: Json) => void,
  onClose: (code: number) => void,
): void {
  attach(
    socket,
    (message) => {
      const frame = parseJson(message)
      if (!isRecord(frame)) return
      if (frame.type === 'ping') answerParleyPing(socket, frame)
      else onFrame(frame)
    },
    onClose,
  )
}

/** A Parley `error` frame's request id as the bench's sequence number; undefined when it has none. */
export function errorSeq(frame: Json): number | undefined {
  return typeof frame.id === 'string' ? Number(frame.id) : undefined
}

const parleyClient: TargetClient = {
  async subscriber(options, handlers) {
    const socket = await parleyHandshake(options, {
      type: 'subscribe',
      id: 'subscribe',
      channel: options.channel,
    })
    attachParley(
      socket,
      (frame) => {
        if (frame.type !== 'channel_message') return
        const payload = asPayload(frame.data)
        if (payload) handlers.onPayload(payload)
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async publisher(options, handlers) {
    const socket = await parleyHandshake(options, undefined)
    attachParley(
      socket,
      (frame) => {
        if (frame.type === 'reply') {
          const result = isRecord(frame.result) ? frame.result : {}
          const delivered = typeof result.delivered === 'number' ? result.delivered : undefined
          handlers.onAck(Number(frame.id), delivered)
        } else if (frame.type === 'error') {
          handlers.onError(errorSeq(frame), String(frame.code))
        }
      },
      handlers.onClose,
    )
    return {
      ...closer(socket),
      publish(payload) {
        sendFrame(socket, {
          type: 'publish',
          id: String(payload.seq),
          channel: options.channel,
          data: payload,
        })
      },
    }
  },
}

// ---------------------------------------------------------------- plain ws baseline (see servers/ws-server.ts)

/**
 * Opens a socket to a ws baseline (the broadcast server or the request relay) and waits until the server
 * has acknowledged the greeting: `ready` for subscribers, publishers and callers, `register` for agents.
 */
export function openWsBaseline(
  options: { baseUrl: string; timeoutMs: number },
  greeting: 'ready' | 'register' = 'ready',
) {
  return openAndHandshake(
    wsUrl(options.baseUrl, '/ws'),
    options.timeoutMs,
    (socket) => socket.send(JSON.stringify({ type: greeting, id: greeting })),
    (_socket, message) => {
      const frame = parseJson(message)
      return isRecord(frame) && frame.type === 'ack' && frame.id === greeting ? 'done' : 'continue'
    },
  )
}

const wsClient: TargetClient = {
  async subscriber(options, handlers) {
    // The baseline has no channels: an open socket receives every broadcast.
    const socket = await openWsBaseline(options)
    attach(
      socket,
      (message) => {
        const frame = parseJson(message)
        if (!isRecord(frame) || frame.type !== 'message') return
        const payload = asPayload(frame.data)
        if (payload) handlers.onPayload(payload)
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async publisher(options, handlers) {
    const socket = await openWsBaseline(options)
    attach(
      socket,
      (message) => {
        const frame = parseJson(message)
        if (!isRecord(frame) || frame.type !== 'ack') return
        handlers.onAck(Number(frame.id), typeof frame.delivered === 'number' ? frame.delivered : undefined)
      },
      handlers.onClose,
    )
    return {
      ...closer(socket),
      publish(payload) {
        socket.send(JSON.stringify({ type: 'publish', id: String(payload.seq), data: payload }))
      },
    }
  },
}

// ---------------------------------------------------------------- Socket.IO, spoken at the wire level

/**
 * Engine.IO v4 over WebSocket: `0{…}` open, `2`/`3` ping/pong. Socket.IO packets ride inside message
 * packets (`4`): `40` connect, `42[event, data]` event, `42<id>[…]` event with ack, `43<id>[…]` ack.
 */
const SOCKET_IO_PATH = '/socket.io/?EIO=4&transport=websocket'
const ACK_PACKET = /^43(\d+)(.*)$/s

/** Engine.IO pings (`2`) are answered with pongs (`3`) on every connection. */
export function answerEnginePing(socket: WebSocket, message: string): boolean {
  if (message !== '2') return false
  socket.send('3')
  return true
}

/**
 * A message handler for a Socket.IO client that only waits for acks: answers pings, and hands each ack's id
 * and first argument to `onAck`.
 */
export function onSocketIoAcks(
  socket: WebSocket,
  onAck: (id: number, first: unknown) => void,
): (message: string) => void {
  return (message) => {
    if (answerEnginePing(socket, message)) return
    const ack = ACK_PACKET.exec(message)
    if (!ack) return
    const body = parseJson(ack[2] ?? '')
    onAck(Number(ack[1]), Array.isArray(body) ? body[0] : undefined)
  }
}

/**
 * Engine.IO open, Socket.IO connect, then `next` (an event with its arguments, e.g. `['subscribe',
 * channel]`) sent with ack id 0, until its ack.
 */
export async function socketIoHandshake(
  options: { baseUrl: string; timeoutMs: number; localAddress?: string },
  next: unknown[] | undefined,
): Promise<WebSocket> {
  return openAndHandshake(
    wsUrl(options.baseUrl, SOCKET_IO_PATH),
    options.timeoutMs,
    () => {},
    (socket, message) => {
      if (message === '2') {
        socket.send('3')
        return 'continue'
      }
      if (message.startsWith('0')) {
        socket.send('40')
        return 'continue'
      }
      if (message.startsWith('44')) throw new Error(`Socket.IO refused the connection: ${message.slice(2)}`)
      if (message.startsWith('40')) {
        if (next === undefined) return 'done'
        socket.send(`420${JSON.stringify(next)}`)
        return 'continue'
      }
      return message.startsWith('430') ? 'done' : 'continue'
    },
    options.localAddress,
  )
}

const socketIoClient: TargetClient = {
  async subscriber(options, handlers) {
    const socket = await socketIoHandshake(options, ['subscribe', options.channel])
    attach(
      socket,
      (message) => {
        if (answerEnginePing(socket, message) || !message.startsWith('42')) return
        const packet = parseJson(message.slice(2))
        if (!Array.isArray(packet) || packet[0] !== 'message') return
        const payload = asPayload(packet[1])
        if (payload) handlers.onPayload(payload)
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async publisher(options, handlers) {
    const socket = await socketIoHandshake(options, undefined)
    attach(
      socket,
      onSocketIoAcks(socket, (id, first) => {
        const delivered = isRecord(first) && typeof first.delivered === 'number' ? first.delivered : undefined
        handlers.onAck(id, delivered)
      }),
      handlers.onClose,
    )
    return {
      ...closer(socket),
      publish(payload) {
        socket.send(
          `42${payload.seq}${JSON.stringify(['publish', { channel: options.channel, data: payload }])}`,
        )
      },
    }
  },
}
