import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection, type ConnectionSocket } from './connection.js'

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
  return new Connection({
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
  })
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
