/**
 * The connections scenario's clients: idle connections, each subscribed to one channel (Parley `subscribe`,
 * a Socket.IO room, the ws channel baseline's `subscribe`), answering heartbeats and counting what arrives;
 * and the publisher that publishes once to every channel. On the same `ws` client as the other scenarios.
 */
import type { WebSocket } from 'ws'
import type { TargetName } from '../options.js'
import {
  attach,
  attachParley,
  type BenchConnection,
  clientFor,
  closer,
  isRecord,
  onSocketIoAcks,
  openAndHandshake,
  parleyHandshake,
  parseJson,
  sendFrame,
  socketIoHandshake,
  wsUrl,
} from './clients.js'

export interface IdleClientOptions {
  baseUrl: string
  channel: string
  clientId: string
  timeoutMs: number
  /** 127.0.0.x to connect from: each load process uses its own, so ephemeral ports never run short. */
  localAddress: string | undefined
}

export interface IdleHandlers {
  /** A channel publication arrived. */
  onPublication(): void
  onClose(code: number): void
}

/** Subscribes to `channel` on the ws channel baseline (servers/ws-channels-server.ts) and waits for its ack. */
function wsSubscribe(options: Omit<IdleClientOptions, 'clientId'>): Promise<WebSocket> {
  return openAndHandshake(
    wsUrl(options.baseUrl, '/ws'),
    options.timeoutMs,
    (socket) => socket.send(JSON.stringify({ type: 'subscribe', id: 'subscribe', channel: options.channel })),
    (_socket, message) => {
      const frame = parseJson(message)
      return isRecord(frame) && frame.type === 'ack' && frame.id === 'subscribe' ? 'done' : 'continue'
    },
    options.localAddress,
  )
}

/**
 * Opens one idle subscribed connection; resolves once the server has confirmed the subscription. Parley and
 * Socket.IO use the fan-out scenario's subscribers (a publication carries `{ seq, t }` like theirs); the ws
 * channel baseline has its own `subscribe`.
 */
export async function openIdleClient(
  target: TargetName,
  options: IdleClientOptions,
  handlers: IdleHandlers,
): Promise<BenchConnection> {
  if (target !== 'ws') {
    const { localAddress, ...rest } = options
    return clientFor(target).subscriber(
      { ...rest, ...(localAddress === undefined ? {} : { localAddress }) },
      { onPayload: handlers.onPublication, onClose: handlers.onClose },
    )
  }
  const socket = await wsSubscribe(options)
  // Protocol pings are answered by the ws library itself.
  attach(
    socket,
    (message) => {
      const frame = parseJson(message)
      if (isRecord(frame) && frame.type === 'message') handlers.onPublication()
    },
    handlers.onClose,
  )
  return closer(socket)
}

/**
 * Publishes once to each channel over one connection, one publication in flight at a time, and resolves with
 * the deliveries each server reported in its acknowledgements (its own count, for the report).
 */
export async function publishToChannels(
  target: TargetName,
  baseUrl: string,
  channels: string[],
  timeoutMs: number,
): Promise<number> {
  const connect = { baseUrl, timeoutMs }
  let pending: { resolve(delivered: number): void; reject(error: Error): void } | undefined
  const answered = (delivered: unknown) => pending?.resolve(typeof delivered === 'number' ? delivered : 0)
  const refused = (what: string) => pending?.reject(new Error(`publish refused: ${what}`))
  let publish: (id: number, channel: string) => void
  let socket: WebSocket
  if (target === 'parley') {
    socket = await parleyHandshake({ ...connect, clientId: 'bench-connections-publisher' }, undefined)
    attachParley(
      socket,
      (frame) => {
        if (frame.type === 'reply') answered(isRecord(frame.result) ? frame.result.delivered : undefined)
        else if (frame.type === 'error') refused(`${String(frame.code)} ${String(frame.message)}`)
      },
      (code) => refused(`closed ${code}`),
    )
    publish = (id, channel) =>
      sendFrame(socket, { type: 'publish', id: String(id), channel, data: { seq: id, t: Date.now() } })
  } else if (target === 'ws') {
    socket = await wsSubscribe({
      ...connect,
      channel: 'bench.connections.publisher',
      localAddress: undefined,
    })
    attach(
      socket,
      (message) => {
        const frame = parseJson(message)
        if (isRecord(frame) && frame.type === 'ack') answered(frame.delivered)
      },
      (code) => refused(`closed ${code}`),
    )
    publish = (id, channel) =>
      socket.send(JSON.stringify({ type: 'publish', id, channel, data: { seq: id, t: Date.now() } }))
  } else {
    socket = await socketIoHandshake(connect, undefined)
    attach(
      socket,
      onSocketIoAcks(socket, (_id, first) => answered(isRecord(first) ? first.delivered : undefined)),
      (code) => refused(`closed ${code}`),
    )
    publish = (id, channel) =>
      socket.send(`42${id}${JSON.stringify(['publish', { channel, data: { seq: id, t: Date.now() } }])}`)
  }
  try {
    let delivered = 0
    for (const [index, channel] of channels.entries()) {
      delivered += await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to the publish to ${channel}`)), timeoutMs)
        pending = {
          resolve: (count) => {
            clearTimeout(timer)
            resolve(count)
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        }
        publish(index + 1, channel)
      })
    }
    return delivered
  } finally {
    socket.removeAllListeners()
    socket.on('error', () => {})
    socket.terminate()
  }
}
