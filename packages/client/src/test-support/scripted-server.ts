import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { ClientFrame, HelloFrame, ServerFrame } from '@parley/protocol'
import { type WebSocket, WebSocketServer } from 'ws'

/**
 * A scripted stand-in for the gateway, speaking the real protocol over a real `ws` server on port 0. It does
 * just enough (welcome, subscribe, publish fan-out, broadcast) for client tests, and lets a test script the
 * rest: send any frame, refuse the handshake, leave requests unanswered, drop sockets, stop and restart on
 * the same port.
 */

export interface ScriptedServerOptions {
  heartbeatIntervalMs?: number
  /** When set, a hello without this token gets an `unauthorized` error frame and close 4001. */
  requireToken?: string
  /** When false, the hello is never answered (to exercise the connect timeout). */
  welcome?: boolean
  /** Runs before the default handling of a request; return true when the test answered it itself. */
  onRequest?: (connection: ScriptedConnection, frame: ClientFrame) => boolean
}

export class ScriptedConnection {
  hello: HelloFrame | undefined
  clientId: string | undefined
  readonly channels = new Set<string>()
  readonly frames: ClientFrame[] = []

  constructor(readonly socket: WebSocket) {}

  send(frame: ServerFrame | Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame))
  }

  close(code: number, reason = ''): void {
    this.socket.close(code, reason)
  }
}

interface ServerEvents {
  connection: [ScriptedConnection]
  welcomed: [ScriptedConnection]
  frame: [ScriptedConnection, ClientFrame]
  closed: [ScriptedConnection, number]
}

export class ScriptedServer extends EventEmitter<ServerEvents> {
  readonly connections = new Set<ScriptedConnection>()
  private wss: WebSocketServer | undefined
  private sequence = 0

  private constructor(
    public options: ScriptedServerOptions,
    public port: number,
  ) {
    super()
  }

  static async start(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
    const server = new ScriptedServer(options, 0)
    await server.listen()
    return server
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  /** Listens again on the same port after `stop()`, as a restarted gateway would. */
  async restart(): Promise<void> {
    await this.listen()
  }

  /** Closes every socket abruptly (no close frame, like a crash) and stops listening. */
  async stop(): Promise<void> {
    const wss = this.wss
    this.wss = undefined
    if (wss === undefined) return
    for (const connection of this.connections) connection.socket.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  }

  /** Cuts every connection abruptly while still accepting new ones. */
  dropAll(): void {
    for (const connection of this.connections) connection.socket.terminate()
  }

  welcomed(): ScriptedConnection[] {
    return [...this.connections].filter((connection) => connection.clientId !== undefined)
  }

  /** Resolves with the next connection the server welcomes. */
  nextWelcomed(timeoutMs = 2_000): Promise<ScriptedConnection> {
    return this.waitFor('welcomed', () => true, timeoutMs).then(([connection]) => connection)
  }

  /** Resolves with the next frame (on any connection) that matches. */
  nextFrame(
    predicate: (frame: ClientFrame, connection: ScriptedConnection) => boolean,
    timeoutMs = 2_000,
  ): Promise<{ connection: ScriptedConnection; frame: ClientFrame }> {
    return this.waitFor('frame', (connection, frame) => predicate(frame, connection), timeoutMs).then(
      ([connection, frame]) => ({ connection, frame }),
    )
  }

  nextClosed(timeoutMs = 2_000): Promise<{ connection: ScriptedConnection; code: number }> {
    return this.waitFor('closed', () => true, timeoutMs).then(([connection, code]) => ({ connection, code }))
  }

  /** Delivers a `channel_message` to every subscriber of `channel`, as the gateway's fan-out would. */
  deliver(channel: string, data: unknown, source = 'server'): number {
    this.sequence += 1
    const frame = {
      type: 'channel_message',
      channel,
      data,
      id: `m${this.sequence}`,
      source,
      timestamp: Date.now(),
    }
    let delivered = 0
    for (const connection of this.connections) {
      if (!connection.channels.has(channel)) continue
      connection.send(frame)
      delivered += 1
    }
    return delivered
  }

  private waitFor<E extends keyof ServerEvents>(
    event: E,
    predicate: (...args: ServerEvents[E]) => boolean,
    timeoutMs: number,
  ): Promise<ServerEvents[E]> {
    return new Promise((resolve, reject) => {
      const listener = (...args: ServerEvents[E]): void => {
        if (!predicate(...args)) return
        clearTimeout(timer)
        this.off(event, listener as never)
        resolve(args)
      }
      const timer = setTimeout(() => {
        this.off(event, listener as never)
        reject(new Error(`scripted server: no "${String(event)}" within ${timeoutMs} ms`))
      }, timeoutMs)
      this.on(event, listener as never)
    })
  }

  private async listen(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: this.port })
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve())
      wss.once('error', reject)
    })
    this.port = (wss.address() as AddressInfo).port
    this.wss = wss
    wss.on('connection', (socket) => this.accept(socket))
  }

  private accept(socket: WebSocket): void {
    const connection = new ScriptedConnection(socket)
    this.connections.add(connection)
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ClientFrame
      connection.frames.push(frame)
      this.handle(connection, frame)
      this.emit('frame', connection, frame)
    })
    socket.on('close', (code) => {
      this.connections.delete(connection)
      this.emit('closed', connection, code)
    })
    this.emit('connection', connection)
  }

  private handle(connection: ScriptedConnection, frame: ClientFrame): void {
    if (frame.type === 'hello') {
      this.handleHello(connection, frame)
      return
    }
    if (this.options.onRequest?.(connection, frame)) return
    this.sequence += 1
    const timestamp = Date.now()
    switch (frame.type) {
      case 'subscribe':
        connection.channels.add(frame.channel)
        connection.send({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
        return
      case 'unsubscribe':
        connection.channels.delete(frame.channel)
        connection.send({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
        return
      case 'publish': {
        const id = `m${this.sequence}`
        const message = { type: 'channel_message', channel: frame.channel, data: frame.data, id, timestamp }
        let delivered = 0
        for (const other of this.connections) {
          if (!other.channels.has(frame.channel)) continue
          other.send({ ...message, source: connection.clientId ?? 'unknown' })
          delivered += 1
        }
        connection.send({
          type: 'reply',
          id: frame.id,
          result: { id, channel: frame.channel, delivered, timestamp },
        })
        return
      }
      case 'broadcast': {
        const id = `b${this.sequence}`
        const recipients = this.welcomed()
        for (const other of recipients) {
          other.send({
            type: 'broadcast_message',
            data: frame.data,
            id,
            source: connection.clientId ?? 'unknown',
            timestamp,
          })
        }
        connection.send({
          type: 'reply',
          id: frame.id,
          result: { id, delivered: recipients.length, timestamp },
        })
        return
      }
      default:
        return
    }
  }

  private handleHello(connection: ScriptedConnection, hello: HelloFrame): void {
    connection.hello = hello
    const { requireToken } = this.options
    if (requireToken !== undefined && hello.auth?.token !== requireToken) {
      connection.send({ type: 'error', code: 'unauthorized', message: 'invalid token', retryable: false })
      connection.close(4001, 'unauthorized')
      return
    }
    if (this.options.welcome === false) return
    this.sequence += 1
    connection.clientId = hello.clientId ?? `client-${this.sequence}`
    connection.send({
      type: 'welcome',
      protocol: 1,
      sessionId: `session-${this.sequence}`,
      connectionId: `conn-${this.sequence}`,
      clientId: connection.clientId,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 30_000,
      limits: { maxPayload: 65_536, maxSubscriptions: 100 },
      features: [],
      server: { name: 'scripted', version: '0.0.0' },
    })
    this.emit('welcomed', connection)
  }
}
