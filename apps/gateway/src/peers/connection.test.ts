import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection, type ConnectionSocket } from './connection.js'
import { OutboundFlushes } from './outbound-flushes.js'

function fakeSocket() {
  const closes: number[] = []
  const terminated: boolean[] = []
  const socket: ConnectionSocket = {
    transport: 'websocket',
    isOpen: true,
    bufferedBytes: 0,
    sendBatch: () => undefined,
    close: (code: number) => {
      closes.push(code)
    },
    terminate: () => {
      terminated.push(true)
    },
  }
  return { socket, closes, terminated }
}

function connectionOn(
  socket: ConnectionSocket,
  maxBufferedBytes: number,
  onSlow: () => void = () => undefined,
) {
  return new Connection(connectionOptions(socket, maxBufferedBytes, onSlow))
}

function connectionOptions(
  socket: ConnectionSocket,
  maxBufferedBytes: number,
  onSlow: () => void = () => undefined,
) {
  return {
    id: 'con_test',
    logger: pino({ level: 'silent' }),
    socket,
    maxBufferedBytes,
    remoteAddress: null,
    userAgent: null,
    origin: null,
    upgradeToken: undefined,
    now: Date.now(),
    onSlowConsumer: onSlow,
    flushes: new OutboundFlushes(),
  }
}

describe('Connection outbound bound', () => {
  it('counts queued strings in UTF-8 bytes, so multi-byte text cannot exceed the bound unnoticed', () => {
    const { socket, closes } = fakeSocket()
    let slow = 0
    const connection = connectionOn(socket, 100, () => {
      slow += 1
    })
    // 40 characters, 120 bytes on the wire.
    expect(connection.send('€'.repeat(40))).toBe(false)
    expect(slow).toBe(1)
    expect(closes).toEqual([4006])
  })

  it('accepts frames that fit within the bound', () => {
    const { socket, closes } = fakeSocket()
    const connection = connectionOn(socket, 100)
    expect(connection.send('a'.repeat(60))).toBe(true)
    expect(connection.send(Buffer.alloc(30))).toBe(true)
    expect(closes).toEqual([])
  })

  describe('a slow consumer that never finishes closing', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('has its socket dropped 5 s after the 4006 close, not after the closing handshake times out', () => {
      vi.useFakeTimers()
      const { socket, closes, terminated } = fakeSocket()
      const connection = connectionOn(socket, 100)
      expect(connection.send('x'.repeat(200))).toBe(false)
      expect(closes).toEqual([4006])
      vi.advanceTimersByTime(4_999)
      expect(terminated).toEqual([])
      vi.advanceTimersByTime(1)
      expect(terminated).toEqual([true])
    })
  })
})

describe('Connection outbound flushes', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function recordingSocket() {
    const batches: (readonly (string | Buffer)[])[] = []
    const { socket } = fakeSocket()
    return {
      socket: { ...socket, sendBatch: (frames: readonly (string | Buffer)[]) => batches.push(frames) },
      batches,
    }
  }

  it('writes what each connection queued during the turn as one batch, once the turn is over', () => {
    vi.useFakeTimers()
    const flushes = new OutboundFlushes()
    const a = recordingSocket()
    const b = recordingSocket()
    const connectionA = new Connection({ ...connectionOptions(a.socket, 1_000), flushes })
    const connectionB = new Connection({ ...connectionOptions(b.socket, 1_000), flushes })
    const shared = Buffer.from('{"type":"channel_message"}')
    connectionA.send(shared)
    connectionB.send(shared)
    connectionA.send('{"type":"reply"}')
    expect([a.batches, b.batches]).toEqual([[], []])
    vi.runOnlyPendingTimers()
    expect(a.batches).toEqual([[shared, '{"type":"reply"}']])
    expect(b.batches).toEqual([[shared]])
  })

  it('writes the other connections’ frames when one connection’s write throws, then rethrows', () => {
    vi.useFakeTimers()
    const flushes = new OutboundFlushes()
    const failing = recordingSocket()
    const healthy = recordingSocket()
    failing.socket.sendBatch = () => {
      throw new Error('write failed')
    }
    new Connection({ ...connectionOptions(failing.socket, 1_000), flushes }).send('a')
    new Connection({ ...connectionOptions(healthy.socket, 1_000), flushes }).send('b')
    expect(() => vi.runOnlyPendingTimers()).toThrow('write failed')
    expect(healthy.batches).toEqual([['b']])
  })

  it('reads the socket’s buffered bytes again before cutting, so a socket that drained meanwhile is kept', () => {
    const { socket, closes } = fakeSocket()
    const draining = { ...socket, bufferedBytes: 90 }
    const connection = connectionOn(draining, 100)
    expect(connection.send('x'.repeat(5))).toBe(true)
    draining.bufferedBytes = 0
    expect(connection.send('x'.repeat(50))).toBe(true)
    draining.bufferedBytes = 60
    expect(connection.send('x'.repeat(50))).toBe(false)
    expect(closes).toEqual([4006])
  })
})
