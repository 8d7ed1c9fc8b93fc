import { once } from 'node:events'
import { type AgentIdentity, signChallenge } from '@parley/client'
import { ChallengeFrame, DirectMessageFrame } from '@parley/protocol'
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
  /** How the gateway closed the socket, once it did (code and reason). */
  readonly closed: Promise<{ code: number; reason: string }>

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }))
    })
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

  /**
   * Opens the socket and completes the `hello` / `welcome` handshake as `clientId`, anonymously or with
   * `token` in `hello.auth.token`.
   */
  static async connect(url: string, clientId: string, token?: string): Promise<RawParleyClient> {
    const client = await RawParleyClient.open(url)
    const welcome = await client.hello({ clientId, ...(token === undefined ? {} : { auth: { token } }) })
    if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`)
    return client
  }

  /**
   * A device without credentials asking to be paired (`hello.pairing.device`): resolves once the gateway
   * answered `pairing_pending` (its `requestId` is what the operator sees). The connection then waits.
   */
  static async requestDevicePairing(
    url: string,
    device: { name: string; platform?: string },
  ): Promise<{ client: RawParleyClient; requestId: string }> {
    const client = await RawParleyClient.open(url)
    const pending = client.waitFor((frame) => frame.type === 'pairing_pending' || frame.type === 'error')
    client.post({
      type: 'hello',
      id: client.nextRequestId(),
      protocol: { min: 1, max: 1 },
      pairing: { device },
    })
    const answer = await pending
    if (answer.type !== 'pairing_pending') throw new Error(`pairing refused: ${JSON.stringify(answer)}`)
    return { client, requestId: String(answer.requestId) }
  }

  /**
   * Connects as an agent identity: `hello.auth.identity`, then the answer to the gateway's `challenge`
   * signed with the identity's private key, then `welcome`.
   */
  static async connectAsAgent(url: string, identity: AgentIdentity): Promise<RawParleyClient> {
    const client = await RawParleyClient.open(url)
    const challenged = client.waitFor((frame) => frame.type === 'challenge' || frame.type === 'error')
    void client.hello({ auth: { identity: identity.id } }).catch(() => undefined)
    const challenge = await challenged
    if (challenge.type !== 'challenge') throw new Error(`identity refused: ${JSON.stringify(challenge)}`)
    const signed = await signChallenge(identity, { nonce: ChallengeFrame.parse(challenge).nonce })
    client.post({
      type: 'authenticate',
      identity: signed.id,
      nonce: signed.nonce,
      timestamp: signed.timestamp,
      signature: signed.signature,
    })
    const welcome = await client.waitFor((frame) => frame.type === 'welcome' || frame.type === 'error')
    if (welcome.type !== 'welcome') throw new Error(`identity refused: ${JSON.stringify(welcome)}`)
    return client
  }

  /** An open socket before any frame: the test sends `hello` itself. */
  static async open(url: string): Promise<RawParleyClient> {
    const socket = new WebSocket(url)
    await once(socket, 'open')
    return new RawParleyClient(socket)
  }

  /** Sends `hello` with `fields` added and resolves with the gateway's answer to it (`welcome` or `error`). */
  async hello(fields: Record<string, unknown>): Promise<ServerFrameLike> {
    const id = this.nextRequestId()
    const answer = this.waitFor((frame) => frame.id === id)
    this.post({ type: 'hello', id, protocol: { min: 1, max: 1 }, ...fields })
    return answer
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
    this.socket.close(1000)
    await this.closed
  }

  private nextRequestId(): string {
    this.requestCount += 1
    return `r${this.requestCount}`
  }
}
