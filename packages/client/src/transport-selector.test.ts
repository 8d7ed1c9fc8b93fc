import { afterEach, describe, expect, it, vi } from 'vitest'
import { PollingSocket } from './polling-socket.js'
import { FIRST_PROBE_AFTER_MS, type TransportChange, TransportSelector } from './transport-selector.js'
import type { WebSocketConstructor, WebSocketLike } from './websocket.js'

/** A WebSocket stand-in whose opening the test decides. */
class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = []
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this)
  }
  send(): void {}
  close(): void {
    this.readyState = 3
  }
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
}

const hangingFetch = (() => new Promise(() => {})) as unknown as typeof fetch

function selector(
  onWebSocketAvailable: () => void = () => {},
  fallbackToPolling = true,
  probeIntervalMs = 10,
) {
  const changes: TransportChange[] = []
  const transports = new TransportSelector({
    fallbackToPolling,
    probeIntervalMs,
    probeTimeoutMs: 1_000,
    fetch: hangingFetch,
    onChange: (change) => changes.push(change),
    onWebSocketAvailable,
  })
  return { transports, changes }
}

describe('TransportSelector', () => {
  const Impl = FakeWebSocket as unknown as WebSocketConstructor

  it('uses WebSocket first and polling after a WebSocket attempt that never opened', () => {
    const { transports, changes } = selector()
    const first = transports.create('ws://gw.test/ws', Impl)
    expect(first).toBeInstanceOf(FakeWebSocket)
    transports.lost(first)
    const second = transports.create('ws://gw.test/ws', Impl)
    expect(second).toBeInstanceOf(PollingSocket)
    expect(transports.current).toBe('polling')
    expect(changes).toEqual([
      { from: undefined, to: 'websocket' },
      { from: 'websocket', to: 'polling' },
    ])
    second.close()
  })

  it('never uses polling with fallbackToPolling off', () => {
    const { transports, changes } = selector(() => {}, false)
    transports.lost(transports.create('ws://gw.test/ws', Impl))
    expect(transports.create('ws://gw.test/ws', Impl)).toBeInstanceOf(FakeWebSocket)
    expect(changes).toEqual([{ from: undefined, to: 'websocket' }])
  })

  it('tries WebSocket again after a polling attempt that never opened either', () => {
    const { transports } = selector()
    transports.lost(transports.create('ws://gw.test/ws', Impl))
    const polling = transports.create('ws://gw.test/ws', Impl)
    transports.lost(polling)
    expect(transports.create('ws://gw.test/ws', Impl)).toBeInstanceOf(FakeWebSocket)
    polling.close()
  })

  it('stays on WebSocket when a connection that had opened is lost', () => {
    const { transports } = selector()
    const first = transports.create('ws://gw.test/ws', Impl) as FakeWebSocket
    first.open()
    transports.opened(first)
    transports.lost(first)
    expect(transports.create('ws://gw.test/ws', Impl)).toBeInstanceOf(FakeWebSocket)
  })

  it('probes WebSocket while on polling and reports when one opens, so the next attempt uses it', async () => {
    let available = 0
    const { transports } = selector(() => {
      available += 1
    })
    transports.lost(transports.create('ws://gw.test/ws', Impl))
    const polling = transports.create('ws://gw.test/ws', Impl)
    FakeWebSocket.instances = []
    transports.welcomed('ws://gw.test/ws', Impl)
    await expect.poll(() => FakeWebSocket.instances.length).toBe(1)
    FakeWebSocket.instances[0]?.open()
    expect(available).toBe(1)
    transports.lost(polling)
    expect(transports.create('ws://gw.test/ws', Impl)).toBeInstanceOf(FakeWebSocket)
    transports.stop()
    polling.close()
  })

  describe('after a fallback', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('probes WebSocket once soon, then at the probe interval, so clients that fell back during an outage return', () => {
      vi.useFakeTimers()
      const { transports } = selector(() => {}, true, 30_000)
      transports.lost(transports.create('ws://gw.test/ws', Impl))
      const polling = transports.create('ws://gw.test/ws', Impl)
      FakeWebSocket.instances = []
      transports.welcomed('ws://gw.test/ws', Impl)

      vi.advanceTimersByTime(FIRST_PROBE_AFTER_MS)
      expect(FakeWebSocket.instances).toHaveLength(1)
      // That probe fails (WebSocket really is blocked): the next one waits for the whole interval.
      FakeWebSocket.instances[0]?.onclose?.({ code: 1006, reason: '' })
      vi.advanceTimersByTime(30_000 - 1)
      expect(FakeWebSocket.instances).toHaveLength(1)
      vi.advanceTimersByTime(1)
      expect(FakeWebSocket.instances).toHaveLength(2)
      transports.stop()
      polling.close()
    })
  })
})
