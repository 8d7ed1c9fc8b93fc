import {
  AgentCaller,
  type AgentCallerOptions,
  AgentClient,
  type AgentClientOptions,
  type WebSocketConstructor,
} from '@parley/client'
import { WebSocket } from 'ws'
import type { GatewayConfigInput } from '../../src/config.js'
import { startTestGateway, type TestGateway } from './test-gateway.js'

/** Reconnects quickly so tests that drop a connection do not wait for the default backoff. */
export const FAST_RECONNECT = { initialDelayMs: 20, maxDelayMs: 200 }

/**
 * A `ws` WebSocket that remembers every socket it opened, so a test can kill one abruptly (`terminate()`:
 * the TCP connection is destroyed, no close frame), as a crashed process would.
 */
export function trackedWebSocket(): { WebSocket: WebSocketConstructor; sockets: WebSocket[] } {
  const sockets: WebSocket[] = []
  class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url)
      sockets.push(this)
    }
  }
  return { WebSocket: TrackedWebSocket as unknown as WebSocketConstructor, sockets }
}

/**
 * A WebSocket that never opens (as behind a proxy that refuses upgrades): the SDK carries on over HTTP
 * long-polling.
 */
export class RefusedWebSocket {
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(_url: string) {
    queueMicrotask(() => {
      this.readyState = 3
      this.onerror?.(new Error('upgrade refused'))
      this.onclose?.({ code: 1006, reason: 'upgrade refused' })
    })
  }

  send(): void {}
  close(): void {}
}

/** A real gateway plus SDK clients (`AgentCaller` / `AgentClient`) that are closed with it. */
export class SdkFixture {
  server: TestGateway | undefined
  readonly #clients: AgentCaller[] = []

  async start(
    config: GatewayConfigInput = {},
    options: Parameters<typeof startTestGateway>[1] = {},
  ): Promise<TestGateway> {
    this.server = await startTestGateway(config, options)
    return this.server
  }

  get wsUrl(): string {
    if (this.server === undefined) throw new Error('the gateway is not started')
    return this.server.started.wsUrl
  }

  get url(): string {
    if (this.server === undefined) throw new Error('the gateway is not started')
    return this.server.started.url
  }

  /** A caller (not an agent), not yet connected. */
  caller(clientId: string, options: AgentCallerOptions = {}): AgentCaller {
    const created = new AgentCaller(this.wsUrl, { clientId, reconnect: FAST_RECONNECT, ...options })
    this.#clients.push(created)
    return created
  }

  /** An agent, not yet connected: add handlers, then `connect()`. */
  agent(options: AgentClientOptions): AgentClient {
    const created = new AgentClient(this.wsUrl, { reconnect: FAST_RECONNECT, ...options })
    this.#clients.push(created)
    return created
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#clients.splice(0).map((client) => client.close()))
    await this.server?.dispose()
    this.server = undefined
  }
}

/** Resolves with the first value `emit` passes to the listener it registers, or rejects after `timeoutMs`. */
export function once<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  timeoutMs = 10_000,
  what = 'the event',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`${what} did not happen within ${timeoutMs} ms`))
    }, timeoutMs)
    const unsubscribe = subscribe((value) => {
      clearTimeout(timer)
      unsubscribe()
      resolve(value)
    })
  })
}

/** Polls `check` until it returns (or resolves) true, or rejects after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
