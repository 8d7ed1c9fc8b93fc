import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { ClientFrame, ErrorCode, HelloFrame, PairingCheckResult, ServerFrame } from '@parley/protocol'
import { type WebSocket, WebSocketServer } from 'ws'
import { verifyChallenge } from '../identity.js'

/**
 * A scripted stand-in for the gateway, speaking the real protocol over a real `ws` server on port 0. It does
 * just enough for client tests, as docs/protocol.md describes it: welcome; subscribe with stream offsets and
 * epochs, `since` recovery from a bounded history and `durable` (deliveries with ids); publish fan-out with
 * idempotency keys; broadcast; send with direct messages (waiting for offline recipients), acks and
 * receipts; agent identity challenges (a fresh nonce per connection, checked once, with clock skew and the
 * signature); device pairing requests the test approves, denies or expires; `pairing_check` with one live
 * code per sender and `pairing_resolved` to every connection. A test scripts the rest: send any frame, refuse the handshake, leave requests unanswered, drop
 * sockets, stop and restart on the same port, start new epochs.
 */

export interface ScriptedServerOptions {
  heartbeatIntervalMs?: number
  /** When set, a hello without this token gets an `unauthorized` error frame and close 4001. */
  requireToken?: string
  /** When false, the hello is never answered (to exercise the connect timeout). */
  welcome?: boolean
  /** Runs before the default handling of a hello (after `connection.hello` is set); true when the test answered it. */
  onHello?: (connection: ScriptedConnection, frame: HelloFrame) => boolean
  /** Runs before the default handling of a request; return true when the test answered it itself. */
  onRequest?: (connection: ScriptedConnection, frame: ClientFrame) => boolean
  /** Publications kept per channel for `since` recovery. Default 100. */
  historySize?: number
  /** did:keys registered as agent keys; a hello with another `auth.identity` gets `unknown_identity`. */
  identities?: string[]
  /** The challenge's `maxSkewMs`: a signed timestamp further from the server's clock is stale. Default 60 000. */
  maxSkewMs?: number
  /** How far the server's clock is ahead of the client's, for stale timestamps. Default 0. */
  clockOffsetMs?: number
}

/** What a device pairing request looked like on the wire, and the connection waiting for its decision. */
export interface DeviceRequest {
  requestId: string
  device: { name: string; platform?: string }
  /** The agent identity (`auth.identity`) and public key the device asked to register, if any. */
  identity?: { id: string; publicKey: string }
  connection: ScriptedConnection
}

/** One channel's stream: offsets count publications within an epoch; the history serves recoveries. */
interface Stream {
  epoch: string
  offset: number
  history: Array<Record<string, unknown> & { offset: number }>
}

/** A direct message waiting for its recipient's ack. */
interface PendingDirect {
  frame: Record<string, unknown> & { attempt: number }
  to: string
  sender: string
  receipt: boolean
}

export class ScriptedConnection {
  hello: HelloFrame | undefined
  clientId: string | undefined
  readonly channels = new Set<string>()
  /** Channels subscribed with `durable: true`: their publications come as deliveries. */
  readonly durable = new Set<string>()
  readonly frames: ClientFrame[] = []
  /** The nonce of the challenge sent on this connection, until it is answered. */
  nonce: string | undefined
  /** Every nonce sent on this connection. */
  readonly nonces: string[] = []

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
  device_request: [DeviceRequest]
}

export class ScriptedServer extends EventEmitter<ServerEvents> {
  readonly connections = new Set<ScriptedConnection>()
  private wss: WebSocketServer | undefined
  private sequence = 0
  private generation = 1
  private readonly streams = new Map<string, Stream>()
  /** Results of earlier publishes and sends by idempotency key, answered again with `duplicate: true`. */
  private readonly idempotent = new Map<string, Record<string, unknown>>()
  /** Direct messages not acknowledged yet, by delivery id. */
  readonly directs = new Map<string, PendingDirect>()
  /** Device pairing requests waiting for a decision, by request id. */
  readonly deviceRequests = new Map<string, DeviceRequest>()
  /** Tokens handed to approved devices: accepted like `requireToken`. */
  readonly deviceTokens = new Set<string>()
  /** Live chat pairing requests by `channelType\0senderId`. */
  private readonly chatRequests = new Map<string, PairingCheckResult>()

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

  /** Resolves with the next device pairing request. */
  nextDeviceRequest(timeoutMs = 2_000): Promise<DeviceRequest> {
    return this.waitFor('device_request', () => true, timeoutMs).then(([request]) => request)
  }

  /**
   * The operator approves a device: the waiting connection gets `pairing_approved` with `token`, then
   * `welcome`; a device that sent an identity gets it registered and a `challenge` instead of `welcome`.
   */
  approveDevice(requestId: string, token: string): void {
    const request = this.takeDeviceRequest(requestId)
    this.deviceTokens.add(token)
    request.connection.send({ type: 'pairing_approved', requestId, token, deviceId: `device-${requestId}` })
    if (request.identity === undefined) {
      this.welcome(request.connection)
      return
    }
    this.options.identities = [...(this.options.identities ?? []), request.identity.id]
    this.challenge(request.connection)
  }

  /** The operator denies a device: `pairing_denied` and close 4009. */
  denyDevice(requestId: string): void {
    const { connection } = this.takeDeviceRequest(requestId)
    this.refuse(connection, 'pairing_denied', 'the operator denied this device', 4009)
  }

  /** Nobody decided in time: `pairing_expired` and close 4010. */
  expireDevice(requestId: string): void {
    const { connection } = this.takeDeviceRequest(requestId)
    this.refuse(connection, 'pairing_expired', 'the pairing request expired', 4010)
  }

  /** The operator decided a chat sender's pairing: every welcomed connection gets `pairing_resolved`. */
  resolveChatPairing(
    channelType: string,
    senderId: string,
    status: 'approved' | 'denied' | 'revoked' | 'expired',
  ): void {
    const key = `${channelType}\u0000${senderId}`
    const request = this.chatRequests.get(key)
    this.chatRequests.delete(key)
    for (const connection of this.welcomed()) {
      connection.send({
        type: 'pairing_resolved',
        requestId: request?.requestId ?? null,
        channelType,
        senderId,
        status,
        timestamp: Date.now(),
      })
    }
  }

  /** An `error` frame without id, then the close, as the gateway refuses a handshake. */
  refuse(connection: ScriptedConnection, code: ErrorCode, message: string, closeCode: number): void {
    connection.send({ type: 'error', code, message, retryable: false })
    connection.close(closeCode, code)
  }

  private now(): number {
    return Date.now() + (this.options.clockOffsetMs ?? 0)
  }

  private takeDeviceRequest(requestId: string): DeviceRequest {
    const request = this.deviceRequests.get(requestId)
    if (request === undefined) throw new Error(`scripted server: no device request ${requestId}`)
    this.deviceRequests.delete(requestId)
    return request
  }

  /**
   * Publishes on `channel` as the gateway would: the next offset of the channel's stream, kept in its
   * history, and a `channel_message` to every subscriber (a delivery with an id to durable ones).
   */
  deliver(channel: string, data: unknown, source = 'server'): number {
    return this.publishOn(channel, data, source).delivered
  }

  /** The channel's stream position now. */
  position(channel: string): { offset: number; epoch: string } {
    const stream = this.stream(channel)
    return { offset: stream.offset, epoch: stream.epoch }
  }

  /** Forgets every stream's history and starts new epochs, as a gateway without persistence does on restart. */
  newEpoch(): void {
    this.generation += 1
    this.streams.clear()
  }

  private stream(channel: string): Stream {
    let stream = this.streams.get(channel)
    if (stream === undefined) {
      stream = { epoch: `ep${this.generation}`, offset: 0, history: [] }
      this.streams.set(channel, stream)
    }
    return stream
  }

  private publishOn(
    channel: string,
    data: unknown,
    source: string,
  ): { id: string; offset: number; epoch: string; delivered: number; timestamp: number } {
    this.sequence += 1
    const stream = this.stream(channel)
    stream.offset += 1
    const id = `m${this.sequence}`
    const timestamp = Date.now()
    const frame = { type: 'channel_message', channel, data, id, source, timestamp, offset: stream.offset }
    const message = { ...frame, epoch: stream.epoch }
    stream.history.push(message)
    if (stream.history.length > (this.options.historySize ?? 100)) stream.history.shift()
    let delivered = 0
    for (const connection of this.connections) {
      if (!connection.channels.has(channel)) continue
      if (connection.durable.has(channel)) {
        connection.send({ ...message, deliveryId: `dlv-${id}-${connection.clientId}`, attempt: 1 })
      } else {
        connection.send(message)
      }
      delivered += 1
    }
    return { id, offset: stream.offset, epoch: stream.epoch, delivered, timestamp }
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
    if (frame.type === 'authenticate') {
      void this.handleAuthenticate(connection, frame)
      return
    }
    this.sequence += 1
    const timestamp = Date.now()
    switch (frame.type) {
      case 'subscribe':
        this.handleSubscribe(connection, frame)
        return
      case 'unsubscribe':
        connection.channels.delete(frame.channel)
        connection.durable.delete(frame.channel)
        connection.send({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
        return
      case 'publish': {
        const key =
          frame.idempotencyKey === undefined ? undefined : `${frame.channel}\u0000${frame.idempotencyKey}`
        const earlier = key === undefined ? undefined : this.idempotent.get(key)
        if (earlier !== undefined) {
          connection.send({ type: 'reply', id: frame.id, result: { ...earlier, duplicate: true } })
          return
        }
        const published = this.publishOn(frame.channel, frame.data, connection.clientId ?? 'unknown')
        const result = { ...published, channel: frame.channel }
        if (key !== undefined) this.idempotent.set(key, result)
        connection.send({ type: 'reply', id: frame.id, result })
        return
      }
      case 'send':
        this.handleSend(connection, frame)
        return
      case 'pairing_check':
        this.handlePairingCheck(connection, frame)
        return
      case 'ack':
        for (const deliveryId of frame.deliveryIds) this.settleDirect(deliveryId, 'acked')
        if (frame.id !== undefined) connection.send({ type: 'reply', id: frame.id, result: { settled: 0 } })
        return
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

  private handleSubscribe(
    connection: ScriptedConnection,
    frame: Extract<ClientFrame, { type: 'subscribe' }>,
  ): void {
    if (frame.durable === true && connection.hello?.clientId === undefined) {
      connection.send({
        type: 'error',
        id: frame.id,
        code: 'bad_request',
        message: 'durable subscriptions need a clientId in hello',
        retryable: false,
      })
      return
    }
    const stream = this.stream(frame.channel)
    const result: Record<string, unknown> = {
      channel: frame.channel,
      offset: stream.offset,
      epoch: stream.epoch,
    }
    if (frame.since !== undefined) {
      const oldestKept = stream.history[0]?.offset ?? stream.offset + 1
      const { offset, epoch } = frame.since
      // All or nothing: the same epoch, not ahead of the stream, and nothing missed fell out of the history.
      const recoverable = epoch === stream.epoch && offset <= stream.offset && offset >= oldestKept - 1
      const missed = recoverable ? stream.history.filter((message) => message.offset > offset) : []
      for (const message of missed) connection.send(message)
      result.recovered = recoverable
      result.replayed = missed.length
    }
    connection.channels.add(frame.channel)
    if (frame.durable === true) {
      connection.durable.add(frame.channel)
      result.durable = true
    }
    connection.send({ type: 'reply', id: frame.id, result })
  }

  private handleSend(connection: ScriptedConnection, frame: Extract<ClientFrame, { type: 'send' }>): void {
    const sender = connection.clientId ?? 'unknown'
    const key =
      frame.idempotencyKey === undefined
        ? undefined
        : `${sender}\u0000${frame.to}\u0000${frame.idempotencyKey}`
    const earlier = key === undefined ? undefined : this.idempotent.get(key)
    if (earlier !== undefined) {
      connection.send({ type: 'reply', id: frame.id, result: { ...earlier, duplicate: true } })
      return
    }
    const id = `m${this.sequence}`
    const deliveryId = `dlv-${id}`
    const timestamp = Date.now()
    const result = { id, to: frame.to, deliveryId, timestamp }
    if (key !== undefined) this.idempotent.set(key, result)
    const direct = {
      type: 'direct_message',
      id,
      deliveryId,
      attempt: 0,
      from: sender,
      data: frame.data,
      timestamp,
    }
    this.directs.set(deliveryId, { frame: direct, to: frame.to, sender, receipt: frame.receipt === true })
    connection.send({ type: 'reply', id: frame.id, result })
    for (const recipient of this.welcomed()) {
      if (recipient.clientId === frame.to) this.handOver(recipient, deliveryId)
    }
  }

  /** Sends a waiting direct message (again) to its recipient: each hand-over is one more attempt. */
  private handOver(recipient: ScriptedConnection, deliveryId: string): void {
    const pending = this.directs.get(deliveryId)
    if (pending === undefined) return
    pending.frame.attempt += 1
    recipient.send(pending.frame)
    this.sendReceipt(pending, 'delivered')
  }

  /** Delivers every unacknowledged direct message for `to` again, as the gateway does after a reconnect. */
  redeliverDirects(to: string): void {
    for (const [deliveryId, pending] of this.directs) {
      if (pending.to !== to) continue
      for (const recipient of this.welcomed()) {
        if (recipient.clientId === to) this.handOver(recipient, deliveryId)
      }
    }
  }

  private settleDirect(deliveryId: string, status: 'acked'): void {
    const pending = this.directs.get(deliveryId)
    if (pending === undefined) return
    this.directs.delete(deliveryId)
    this.sendReceipt(pending, status)
  }

  private sendReceipt(pending: PendingDirect, status: 'delivered' | 'acked'): void {
    if (!pending.receipt) return
    for (const connection of this.welcomed()) {
      if (connection.clientId !== pending.sender) continue
      connection.send({
        type: 'receipt',
        messageId: pending.frame.id,
        deliveryId: pending.frame.deliveryId,
        to: pending.to,
        status,
        attempt: pending.frame.attempt,
        timestamp: Date.now(),
      })
    }
  }

  private handleHello(connection: ScriptedConnection, hello: HelloFrame): void {
    connection.hello = hello
    if (this.options.onHello?.(connection, hello)) return
    const token = hello.auth?.token
    const identity = hello.auth?.identity
    if (hello.pairing !== undefined && token === undefined) {
      this.sequence += 1
      const { publicKey } = hello.pairing
      const request: DeviceRequest = {
        requestId: `dev_${this.sequence}`,
        device: hello.pairing.device,
        ...(identity === undefined || publicKey === undefined
          ? {}
          : { identity: { id: identity, publicKey } }),
        connection,
      }
      this.deviceRequests.set(request.requestId, request)
      connection.send({
        type: 'pairing_pending',
        requestId: request.requestId,
        expiresAt: Date.now() + 5 * 60_000,
      })
      this.emit('device_request', request)
      return
    }
    const { requireToken } = this.options
    const tokenAccepted = token !== undefined && (token === requireToken || this.deviceTokens.has(token))
    // An identity stands in for the token; a token given alongside it must still be right.
    const tokenRequired = requireToken !== undefined && (identity === undefined || token !== undefined)
    if (tokenRequired && !tokenAccepted) {
      this.refuse(connection, 'unauthorized', 'invalid token', 4001)
      return
    }
    if (identity !== undefined) {
      if (!(this.options.identities ?? []).includes(identity)) {
        this.refuse(connection, 'unknown_identity', 'this identity is not registered', 4001)
        return
      }
      this.challenge(connection)
      return
    }
    this.welcome(connection)
  }

  private challenge(connection: ScriptedConnection): void {
    this.sequence += 1
    const nonce = `nonce-${this.sequence}-${Math.random().toString(36).slice(2)}`
    connection.nonce = nonce
    connection.nonces.push(nonce)
    connection.send({
      type: 'challenge',
      nonce,
      timestamp: this.now(),
      maxSkewMs: this.options.maxSkewMs ?? 60_000,
    })
  }

  private async handleAuthenticate(
    connection: ScriptedConnection,
    frame: Extract<ClientFrame, { type: 'authenticate' }>,
  ): Promise<void> {
    const expected = connection.nonce
    connection.nonce = undefined
    if (frame.identity !== connection.hello?.auth?.identity) {
      this.refuse(connection, 'unknown_identity', 'not the identity of the hello', 4001)
      return
    }
    if (expected === undefined || frame.nonce !== expected) {
      this.refuse(connection, 'nonce_reused', 'this nonce was not issued here or was used', 4001)
      return
    }
    if (Math.abs(this.now() - frame.timestamp) > (this.options.maxSkewMs ?? 60_000)) {
      this.refuse(connection, 'stale_timestamp', 'the timestamp is too far from the server clock', 4001)
      return
    }
    const { identity, nonce, timestamp, signature } = frame
    if (!(await verifyChallenge(identity, { id: identity, nonce, timestamp, signature }))) {
      this.refuse(connection, 'invalid_signature', 'the signature does not verify', 4001)
      return
    }
    this.welcome(connection)
  }

  /** `pair` policy for every channel type: one live code per sender until the test resolves it. */
  private handlePairingCheck(
    connection: ScriptedConnection,
    frame: Extract<ClientFrame, { type: 'pairing_check' }>,
  ): void {
    const key = `${frame.channelType}\u0000${frame.senderId}`
    let result = this.chatRequests.get(key)
    if (result === undefined) {
      result = {
        status: 'pending',
        policy: 'pair',
        code: `CODE${String(this.sequence).padStart(4, '0')}`,
        requestId: `pair_${this.sequence}`,
        expiresAt: Date.now() + 3_600_000,
      }
      this.chatRequests.set(key, result)
    }
    connection.send({ type: 'reply', id: frame.id, result })
  }

  private welcome(connection: ScriptedConnection): void {
    const hello = connection.hello
    if (hello === undefined || this.options.welcome === false) return
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
    // Direct messages wait for their recipient.
    for (const [deliveryId, pending] of this.directs) {
      if (pending.to === connection.clientId) this.handOver(connection, deliveryId)
    }
  }
}
