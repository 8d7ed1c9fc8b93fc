import { once } from 'node:events'
import { DirectMessageFrame } from '@parley/protocol'
import WebSocket from 'ws'

/** A frame from the gateway, checked only for its `type`; tests parse the ones they act on. */
export type ServerFrameLike = { type: string; id?: string } & Record<string, unknown>

type Waiter = {
  predicate: (frame: ServerFrameLike) => boolean
  resolve: (frame: ServerFrameLike) => void
}

/**
 * A client speaking the wire protocol frame by frame over `ws`, so a test decides exactly when to `ack` or
 * `nack` (the SDK acks by itself). It answers the gateway's pings and nothing else on its own.
 */
export class RawParleyClient {
  private readonly waiters = new Set<Waiter>()
  private readonly directMessageHandlers: Array<(frame: DirectMessageFrame) => void> = []
  private requestCount = 0

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrameLike
      if (frame.type === 'ping') this.post({ type: 'pong', ts: frame.ts })
      if (frame.type === 'direct_message') {
        const message = DirectMessageFrame.parse(frame)
        for (const handler of this.directMessageHandlers) handler(message)
      }
      for (const waiter of this.waiters) {
        if (!waiter.predicate(frame)) continue
        this.waiters.delete(waiter)
        waiter.resolve(frame)
      }
    })
  }

  /** Opens the socket and completes the `hello` / `welcome` handshake as `clientId`. */
  static async connect(url: string, clientId: string): Promise<RawParleyClient> {
    const socket = new WebSocket(url)
    await once(socket, 'open')
    const client = new RawParleyClient(socket)
    const id = client.nextRequestId()
    const answer = client.waitFor((frame) => frame.id === id)
    client.post({ type: 'hello', id, protocol: { min: 1, max: 1 }, clientId })
    const welcome = await answer
    if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`)
    return client
  }

  onDirectMessage(handler: (frame: DirectMessageFrame) => void): void {
    this.directMessageHandlers.push(handler)
  }

  /** Sends a request with a fresh `id` and resolves with its `reply.result`; an `error` frame rejects. */
  async request(frame: Record<string, unknown> & { type: string }): Promise<Record<string, unknown>> {
    const id = this.nextRequestId()
    const answer = this.waitFor((candidate) => candidate.id === id)
    this.post({ ...frame, id })
    const reply = await answer
    if (reply.type !== 'reply') throw new Error(`${frame.type} refused: ${JSON.stringify(reply)}`)
    return reply.result as Record<string, unknown>
  }

  /** Sends a frame that gets no answer (an `ack` or `nack` without an id). */
  post(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame))
  }

  /** The next frame matching `predicate`, or a rejection after `timeoutMs`. */
  waitFor(predicate: (frame: ServerFrameLike) => boolean, timeoutMs = 15_000): Promise<ServerFrameLike> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer)
          resolve(frame)
        },
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`no matching frame within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return
    const closed = once(this.socket, 'close')
    this.socket.close(1000)
    await closed
  }

  private nextRequestId(): string {
    this.requestCount += 1
    return `r${this.requestCount}`
  }
}
