import type { ClientRequestArgs } from 'node:http'
import { ServerFrame } from '@parley/protocol'
import { type ClientOptions, WebSocket } from 'ws'
import { RecordingClient } from './recording-client.js'

export type { Closed, Frame, FrameOf } from './recording-client.js'

/**
 * A raw `ws` client that records every frame the gateway sends, so tests can wait for a frame or the close
 * (with a timeout) instead of sleeping. It never answers pings on its own.
 */
export class TestClient extends RecordingClient {
  readonly #socket: WebSocket

  private constructor(socket: WebSocket) {
    super('socket')
    this.#socket = socket
    socket.on('message', (data) => {
      this.receive([ServerFrame.parse(JSON.parse(data.toString()))])
    })
    socket.on('close', (code, reason) => {
      this.end({ code, reason: reason.toString() })
    })
  }

  /** Opens the socket (no `hello` yet). */
  static async open(url: string, options: ClientOptions & ClientRequestArgs = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options)
    const client = new TestClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
      )
    })
    return client
  }

  /** Opens the socket and completes the handshake. */
  static async connect(
    url: string,
    hello: { clientId?: string; token?: string } = {},
    options: ClientOptions & ClientRequestArgs = {},
  ): Promise<TestClient> {
    const client = await TestClient.open(url, options)
    const welcome = await client.hello(hello)
    if (welcome.type !== 'welcome') throw new Error(`handshake failed: ${JSON.stringify(welcome)}`)
    return client
  }

  get readyState(): number {
    return this.#socket.readyState
  }

  protected override transportClosed(): boolean {
    return this.#socket.readyState === WebSocket.CLOSED
  }

  send(frame: object): void {
    this.#socket.send(JSON.stringify(frame))
  }

  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.#socket.send(data, { binary: options.binary ?? typeof data !== 'string' })
  }

  close(): void {
    this.#socket.close()
  }

  /** The underlying socket, for tests that need raw control. */
  get socket(): WebSocket {
    return this.#socket
  }
}
