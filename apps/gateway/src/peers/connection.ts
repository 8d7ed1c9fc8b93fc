import {
  CLOSE_CODES,
  type CloseReason,
  type ConnectionInfo,
  type ErrorBody,
  encodeFrame,
  type HelloFrame,
  type PairingConnectionInfo,
  type Role,
  type ServerFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import type { OutboundFlushes, QueuedOutbound } from './outbound-flushes.js'
import { type Peer, sendError } from './peer.js'

/** An encoded frame. Fan-out encodes once into a Buffer and hands the same Buffer to every recipient. */
export type OutboundFrame = string | Buffer

export type TransportName = 'websocket' | 'polling'

/**
 * What a connection writes to: a WebSocket (`websocket-socket.ts`) or a poll session (`polling-session.ts`).
 * The protocol state machine above it is the same for both.
 */
export interface ConnectionSocket {
  readonly transport: TransportName
  /** Whether frames can still be written. */
  readonly isOpen: boolean
  /** Bytes written but not yet taken by the peer (a socket's send buffer, a poll session's unacked frames). */
  readonly bufferedBytes: number
  /** Writes a batch of frames in order (one event-loop turn's worth). */
  sendBatch(frames: readonly OutboundFrame[]): void
  /** Ends the connection with a close code, after the frames already written. */
  close(code: number, reason: string): void
  /** Drops the connection without waiting for the peer. */
  terminate(): void
}

/**
 * How long a connection closed as a slow consumer gets to read what it was sent and its close frame before
 * its socket is dropped: it is not reading, so its closing handshake may never finish.
 */
const SLOW_CONSUMER_CLOSE_GRACE_MS = 5_000

/** `pairing`: a device waits for the operator after `hello` (heartbeats run, nothing else is accepted). */
export type ConnectionState = 'handshaking' | 'pairing' | 'open' | 'closing' | 'closed'

/** The challenge sent after a `hello` with `auth.identity`, until it is answered. */
export interface PendingChallenge {
  identity: string
  nonce: string
  /** Set when an `authenticate` arrived: a nonce is good for one answer. */
  answered: boolean
  /** The `hello` it answers, and the negotiated version, to welcome with. */
  hello: HelloFrame
  version: number
}

export interface ConnectionOptions {
  id: string
  /** Child logger carrying this connection's id. */
  logger: Logger
  socket: ConnectionSocket
  maxBufferedBytes: number
  remoteAddress: string | null
  userAgent: string | null
  /** The browser `Origin` of the upgrade request, if any. */
  origin: string | null
  /** Token from an `Authorization: Bearer` header on the upgrade request, if any. */
  upgradeToken: string | undefined
  now: number
  /** Called once when the connection is closed for falling behind. */
  onSlowConsumer: (connection: Connection) => void
  /** Writes the queued frames of every connection once per event-loop turn (shared by a hub's connections). */
  flushes: OutboundFlushes
}

/**
 * One client connection. Frames are queued and written together once per event-loop turn, inside one
 * cork/uncork, so a burst becomes a single socket write. Outbound bytes are bounded: a client that does not
 * read is closed with `slow_consumer` instead of growing memory without limit.
 */
export class Connection implements Peer, QueuedOutbound {
  readonly id: string
  readonly remoteAddress: string | null
  readonly userAgent: string | null
  readonly origin: string | null
  readonly upgradeToken: string | undefined
  readonly openedAt: number
  /** When the handshake timeout started: at connect, again when a paired device goes on to its challenge. */
  handshakeStartedAt: number
  readonly subscriptions = new Set<string>()

  state: ConnectionState = 'handshaking'
  sessionId = ''
  clientId = ''
  /** True when the client chose its id in `hello` (needed for durable subscriptions). */
  clientIdChosen = false
  /** Who the gateway took the client to be (set at welcome), with its role and scopes. */
  principal = 'anonymous'
  role: Role = 'client'
  scopes: readonly string[] = []
  /** The API token it authenticated with, so revoking the token closes it. */
  tokenId: string | undefined
  /** The registered agent key (did) it authenticated with, so revoking the key closes it. */
  agentKeyId: string | undefined
  /** The challenge it must answer with `authenticate` (agent identity). */
  challenge: PendingChallenge | undefined
  /** Its device pairing request while it waits for the operator. */
  deviceRequestId: string | undefined
  /** The name the device gave in its pairing request, shown to the operator while it waits. */
  deviceName: string | undefined
  /** True while the credentials of its `hello` are being checked. */
  authenticating = false
  protocolVersion = 0
  /** Last time any frame arrived; drives heartbeats and reaping. */
  lastSeenAt: number
  lastPingAt = 0
  messagesIn = 0
  messagesOut = 0
  /** Child logger of this connection: its id, and its client id once the handshake is done. */
  logger: Logger

  readonly #socket: ConnectionSocket
  readonly #maxBufferedBytes: number
  readonly #onSlowConsumer: (connection: Connection) => void
  readonly #flushes: OutboundFlushes
  #queue: OutboundFrame[] = []
  #queuedBytes = 0
  /** The socket's buffered bytes when this turn's queue started: only drains can lower it before the flush. */
  #socketBufferedBytes = 0

  constructor(options: ConnectionOptions) {
    this.id = options.id
    this.logger = options.logger
    this.#socket = options.socket
    this.#maxBufferedBytes = options.maxBufferedBytes
    this.#onSlowConsumer = options.onSlowConsumer
    this.#flushes = options.flushes
    this.remoteAddress = options.remoteAddress
    this.userAgent = options.userAgent
    this.origin = options.origin
    this.upgradeToken = options.upgradeToken
    this.openedAt = options.now
    this.handshakeStartedAt = options.now
    this.lastSeenAt = options.now
  }

  get transport(): TransportName {
    return this.#socket.transport
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /** Queues a frame object (encoded here). Returns false when the connection can no longer take frames. */
  sendFrame(frame: ServerFrame): boolean {
    return this.send(encodeFrame(frame))
  }

  /** Queues an `error` frame answering request `id` when given (see `sendError` in peer.ts). */
  sendError(error: ErrorBody, id?: string): boolean {
    return sendError(this, error, id)
  }

  /** Queues an already encoded frame. Returns false when the connection can no longer take frames. */
  send(frame: OutboundFrame): boolean {
    if (this.state === 'closing' || this.state === 'closed') return false
    const first = this.#queue.length === 0
    if (first) this.#socketBufferedBytes = this.#socket.bufferedBytes
    this.#queue.push(frame)
    // Bytes, not UTF-16 units: the bound is compared with the socket's buffered bytes.
    this.#queuedBytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length
    this.messagesOut += 1
    if (this.#queuedBytes + this.#socketBufferedBytes > this.#maxBufferedBytes) {
      // Read again before judging: the socket may have drained since the queue started.
      this.#socketBufferedBytes = this.#socket.bufferedBytes
    }
    if (this.#queuedBytes + this.#socketBufferedBytes > this.#maxBufferedBytes) {
      this.#queue = []
      this.#queuedBytes = 0
      this.close('slow_consumer', 'outbound buffer limit exceeded')
      const socket = this.#socket
      setTimeout(() => socket.terminate(), SLOW_CONSUMER_CLOSE_GRACE_MS).unref()
      this.#onSlowConsumer(this)
      return false
    }
    if (first) this.#flushes.schedule(this)
    return true
  }

  /** Writes every queued frame now, in one batch (called by the hub's `OutboundFlushes`). */
  flushQueued(): void {
    this.#flush()
  }

  /** Writes every queued frame now, in one corked batch. */
  #flush(): void {
    if (this.#queue.length === 0) return
    const frames = this.#queue
    this.#queue = []
    this.#queuedBytes = 0
    if (!this.#socket.isOpen) return
    this.#socket.sendBatch(frames)
  }

  /** Flushes pending frames (an error frame before the close, say), then closes with a protocol close code. */
  close(reason: CloseReason, message: string = reason): void {
    if (this.state === 'closing' || this.state === 'closed') return
    this.#flush()
    this.state = 'closing'
    this.#socket.close(CLOSE_CODES[reason].code, message.slice(0, 120))
  }

  /** Drops the socket without a closing handshake (a peer that never answers the close). */
  terminate(): void {
    if (this.state === 'closed') return
    this.state = 'closing'
    this.#socket.terminate()
  }

  /** Marks the connection closed once the socket has gone. */
  markClosed(): void {
    this.state = 'closed'
    this.#queue = []
    this.#queuedBytes = 0
  }

  /** What the operator sees of a connection waiting for pairing approval. */
  pairingInfo(): PairingConnectionInfo {
    return {
      connectionId: this.id,
      requestId: this.deviceRequestId ?? null,
      deviceName: this.deviceName ?? null,
      transport: this.#socket.transport,
      remoteAddress: this.remoteAddress,
      userAgent: this.userAgent,
      connectedAt: new Date(this.openedAt).toISOString(),
    }
  }

  info(): ConnectionInfo {
    return {
      connectionId: this.id,
      clientId: this.clientId,
      sessionId: this.sessionId,
      principal: this.principal,
      transport: this.#socket.transport,
      remoteAddress: this.remoteAddress,
      userAgent: this.userAgent,
      connectedAt: new Date(this.openedAt).toISOString(),
      subscriptions: [...this.subscriptions],
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
    }
  }
}
