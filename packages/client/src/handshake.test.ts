import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Handshake, type HandshakeHost } from './handshake.js'
import type { PushClientOptions, WelcomeInfo } from './push-client-types.js'
import type { WebSocketLike } from './websocket.js'

/** A host whose socket never opens: every attempt ends on a timeout, recorded by `abort`. */
function hostWithSocket(socket: WebSocketLike) {
  const abort = vi.fn<HandshakeHost['abort']>()
  const host: HandshakeHost = {
    emitter: { emit: vi.fn() } as unknown as HandshakeHost['emitter'],
    currentSocket: () => socket,
    isWelcomed: () => false,
    clientId: () => 'handshake-test',
    sendFrame: () => true,
    abort,
    stop: vi.fn(),
    reportError: vi.fn(),
    log: vi.fn(),
  }
  return { host, abort }
}

const connectingSocket = { readyState: 0 } as unknown as WebSocketLike

/** Runs `attempts` attempts that all time out; the milliseconds each one waited before it was given up. */
function timedOutAttempts(handshake: Handshake, abort: ReturnType<typeof vi.fn>, attempts: number): number[] {
  const waited: number[] = []
  for (let attempt = 0; attempt < attempts; attempt++) {
    const before = abort.mock.calls.length
    const started = Date.now()
    handshake.begin(connectingSocket, true)
    // The first timer to fire is the timeout; it acts on the next turn, once pending I/O was read.
    let firedAfter: number | undefined
    while (abort.mock.calls.length === before) {
      vi.advanceTimersToNextTimer()
      firedAfter ??= Date.now() - started
    }
    waited.push(firedAfter ?? 0)
    handshake.stopTimers()
  }
  return waited
}

/** What `welcomed` reads of a welcome (the rest of the frame does not matter here). */
const welcome = { sessionId: 'ses_handshake', resumed: false } as WelcomeInfo

describe('Handshake timeouts', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('doubles the welcome timeout after each attempt that timed out, up to 8 times connectTimeoutMs', () => {
    const options: PushClientOptions = { connectTimeoutMs: 1_000, fallbackToPolling: false }
    const { host, abort } = hostWithSocket(connectingSocket)
    const handshake = new Handshake(options, host)

    expect(timedOutAttempts(handshake, abort, 6)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000])
    expect(abort.mock.calls[0]).toEqual([4002, 'no welcome within 1000 ms (connectTimeoutMs 1000)'])
    expect(abort.mock.calls[3]).toEqual([
      4002,
      'no welcome within 8000 ms (connectTimeoutMs 1000, doubled after 3 timed out in a row)',
    ])
  })

  it('stretches the WebSocket open timeout the same way, and a welcome resets both', () => {
    const options: PushClientOptions = { connectTimeoutMs: 10_000, websocketOpenTimeoutMs: 500 }
    const { host, abort } = hostWithSocket(connectingSocket)
    const handshake = new Handshake(options, host)

    expect(timedOutAttempts(handshake, abort, 3)).toEqual([500, 1_000, 2_000])
    expect(abort.mock.calls[2]?.[1]).toBe(
      'the WebSocket did not open within 2000 ms (websocketOpenTimeoutMs 500, doubled after 2 timed out in a row)',
    )

    handshake.welcomed(welcome)

    expect(timedOutAttempts(handshake, abort, 1)).toEqual([500])
  })

  it('keeps an attempt whose welcome is read after its timeout fired but before the timeout acted', () => {
    const options: PushClientOptions = { connectTimeoutMs: 1_000, fallbackToPolling: false }
    const { host, abort } = hostWithSocket(connectingSocket)
    const handshake = new Handshake(options, host)

    handshake.begin(connectingSocket, true)
    vi.advanceTimersByTime(1_000)
    // The process ran its expired timer first; the welcome that waited in the socket is read next.
    handshake.welcomed(welcome)
    vi.runAllTimers()

    expect(abort).not.toHaveBeenCalled()
  })
})
