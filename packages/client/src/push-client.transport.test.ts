import { afterEach, describe, expect, it } from 'vitest'
import { PushClient } from './push-client.js'
import type { TransportChange } from './transport-selector.js'
import type { WebSocketConstructor, WebSocketLike } from './websocket.js'

/** A WebSocket whose upgrade a proxy swallowed: it never opens, never closes, never errors. */
class SwallowedWebSocket implements WebSocketLike {
  static opened = 0
  readyState = 0
  binaryType = 'arraybuffer'
  onopen: ((event: unknown) => void) | null = null
  onmessage = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  constructor(readonly url: string) {
    SwallowedWebSocket.opened += 1
  }
  send(): void {}
  close(): void {
    this.readyState = 3
  }
}

/** The polling side of this test never answers either: only the switch to it is under test. */
const hangingFetch = (() => new Promise(() => {})) as unknown as typeof fetch

describe('PushClient over a WebSocket that never opens', () => {
  let client: PushClient | undefined

  afterEach(async () => {
    await client?.close()
    client = undefined
  })

  function start(options: { websocketOpenTimeoutMs?: number; fallbackToPolling?: boolean }) {
    const changes: TransportChange[] = []
    client = new PushClient('ws://gateway.test/ws', {
      WebSocket: SwallowedWebSocket as unknown as WebSocketConstructor,
      fetch: hangingFetch,
      connectTimeoutMs: 30_000,
      reconnect: { initialDelayMs: 1 },
      ...options,
    })
    client.on('transport_change', (change) => changes.push(change))
    client.connect().catch(() => {})
    return changes
  }

  async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    return condition()
  }

  it('gives the WebSocket up after websocketOpenTimeoutMs and carries on over polling, long before connectTimeoutMs', async () => {
    const changes = start({ websocketOpenTimeoutMs: 100 })
    const startedAt = Date.now()
    expect(await until(() => changes.some((change) => change.to === 'polling'), 10_000)).toBe(true)
    // connectTimeoutMs is 30 s: only the open timeout can have moved it this soon.
    expect(Date.now() - startedAt).toBeLessThan(10_000)
    expect(changes).toEqual([
      { from: undefined, to: 'websocket' },
      { from: 'websocket', to: 'polling' },
    ])
    expect(client?.transport).toBe('polling')
  })

  it('keeps waiting for the WebSocket when fallbackToPolling is off', async () => {
    SwallowedWebSocket.opened = 0
    const changes = start({ websocketOpenTimeoutMs: 100, fallbackToPolling: false })
    // Absence can only be shown by waiting: five open timeouts pass, and nothing may change.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(changes).toEqual([{ from: undefined, to: 'websocket' }])
    expect(SwallowedWebSocket.opened).toBe(1)
  })
})

/** A WebSocket to a gateway that is down: the connection is refused at once. */
class RefusedWebSocket extends SwallowedWebSocket {
  constructor(url: string) {
    super(url)
    setTimeout(() => {
      this.readyState = 3
      this.onerror?.({ type: 'error' })
      this.onclose?.({ code: 1006, reason: '' })
    }, 0)
  }
}

describe('PushClient falling back to polling', () => {
  it('checks polling at once after a failed WebSocket attempt, in the same attempt, not after a backoff delay', async () => {
    let polled: (url: string) => void = () => {}
    const firstPoll = new Promise<string>((resolve) => {
      polled = resolve
    })
    const fetchSpy = ((url: string) => {
      polled(url)
      return new Promise(() => {})
    }) as unknown as typeof fetch
    const client = new PushClient('ws://gateway.test/ws', {
      WebSocket: RefusedWebSocket as unknown as WebSocketConstructor,
      fetch: fetchSpy,
      // A backoff delay would be about a minute: only an attempt without one reaches polling in time.
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 0.999,
    })
    const reconnecting: unknown[] = []
    client.on('reconnecting', (info) => reconnecting.push(info))
    client.connect().catch(() => {})
    try {
      const url = await Promise.race([
        firstPoll,
        new Promise<string>((_, reject) =>
          setTimeout(() => reject(new Error('no poll within 10 s')), 10_000),
        ),
      ])
      expect(url).toBe('http://gateway.test/poll/open')
      expect(reconnecting).toEqual([])
    } finally {
      await client.close()
    }
  }, 15_000)
})
