import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Connection, type ConnectionSocket, type OutboundFrame } from '../peers/connection.js'
import { OutboundFlushes } from '../peers/outbound-flushes.js'
import { PresenceFanOut, type PresenceRecipient } from './presence-fan-out.js'

const INTERVAL_MS = 1000

/** A subscriber that records the frames it was sent, as text. */
function recorder() {
  const got: string[] = []
  const recipient: PresenceRecipient = {
    send(frame) {
      got.push(frame.toString())
      return true
    },
  }
  return { recipient, got }
}

function fanOutTo(
  subscribers: Map<string, PresenceRecipient[]>,
  options: { intervalMs?: number; fannedOut?: (channel: string, frame: Buffer) => void } = {},
) {
  return new PresenceFanOut({
    subscribersOf: (channel) => subscribers.get(channel) ?? [],
    intervalMs: options.intervalMs ?? INTERVAL_MS,
    fannedOut: options.fannedOut,
  })
}

const frame = (text: string) => Buffer.from(text)
/** The end of the current event-loop turn: the connections' queued frames are written by then. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** A connection whose socket records each batch it writes (one batch: one socket write). */
function batchingConnection() {
  const batches: string[][] = []
  const socket: ConnectionSocket = {
    transport: 'websocket',
    isOpen: true,
    bufferedBytes: 0,
    sendBatch: (frames: readonly OutboundFrame[]) => {
      batches.push(frames.map(String))
    },
    close: () => undefined,
    terminate: () => undefined,
  }
  const connection = new Connection({
    id: 'con_watcher',
    logger: pino({ level: 'silent' }),
    socket,
    maxBufferedBytes: 1_000_000,
    remoteAddress: null,
    userAgent: null,
    origin: null,
    upgradeToken: undefined,
    now: Date.now(),
    onSlowConsumer: () => undefined,
    flushes: new OutboundFlushes(),
  })
  return { connection, batches }
}

describe('PresenceFanOut', () => {
  beforeEach(() => {
    // Only the timers the fan-out holds frames with; the connections' end-of-turn flush stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delivers the first frame on a quiet channel at once, holds later ones for the interval, then delivers them together in order', () => {
    const ana = recorder()
    const bob = recorder()
    const fanOut = fanOutTo(new Map([['room', [ana.recipient, bob.recipient]]]))

    fanOut.send('room', frame('join a'))
    expect(ana.got).toEqual(['join a'])
    fanOut.send('room', frame('join b'))
    fanOut.send('room', frame('leave a'))
    vi.advanceTimersByTime(INTERVAL_MS - 1)
    expect(ana.got).toEqual(['join a'])

    vi.advanceTimersByTime(1)
    expect(ana.got).toEqual(['join a', 'join b', 'leave a'])
    expect(bob.got).toEqual(['join a', 'join b', 'leave a'])
  })

  it('writes a subscriber’s held frames as one batch on its connection, not one write per change', async () => {
    const { connection, batches } = batchingConnection()
    const fanOut = fanOutTo(new Map([['room', [connection]]]))

    // Joins arriving in separate event-loop turns, as subscribes from separate sockets do.
    for (const name of ['a', 'b', 'c', 'd']) {
      fanOut.send('room', frame(`join ${name}`))
      await nextTurn()
    }
    expect(batches).toEqual([['join a']])
    vi.advanceTimersByTime(INTERVAL_MS)
    await nextTurn()
    expect(batches).toEqual([['join a'], ['join b', 'join c', 'join d']])
  })

  it('sendHeld delivers the held frames now, in the write of what is sent in the same turn, and holds later ones anew', async () => {
    const { connection, batches } = batchingConnection()
    const fanOut = fanOutTo(new Map([['room', [connection]]]))
    fanOut.send('room', frame('join a'))
    await nextTurn()
    fanOut.send('room', frame('join b'))
    await nextTurn()

    // What a channel publication does: the held frames first, then its own frame, in one turn.
    fanOut.sendHeld('room')
    connection.send(frame('message 1'))
    await nextTurn()
    expect(batches).toEqual([['join a'], ['join b', 'message 1']])

    fanOut.sendHeld('room')
    fanOut.send('room', frame('join c'))
    await nextTurn()
    expect(batches).toHaveLength(2)
    vi.advanceTimersByTime(INTERVAL_MS)
    await nextTurn()
    expect(batches).toEqual([['join a'], ['join b', 'message 1'], ['join c']])
  })

  it('keeps holding while changes keep coming (one delivery per interval) and sends at once again after a quiet interval', () => {
    const ana = recorder()
    const fanOut = fanOutTo(new Map([['room', [ana.recipient]]]))

    fanOut.send('room', frame('1'))
    fanOut.send('room', frame('2'))
    vi.advanceTimersByTime(INTERVAL_MS)
    expect(ana.got).toEqual(['1', '2'])
    // Right after a delivery: held until the end of the next interval.
    fanOut.send('room', frame('3'))
    vi.advanceTimersByTime(INTERVAL_MS - 1)
    expect(ana.got).toEqual(['1', '2'])
    vi.advanceTimersByTime(1)
    expect(ana.got).toEqual(['1', '2', '3'])
    // A whole interval with nothing: the channel is quiet again.
    vi.advanceTimersByTime(INTERVAL_MS)
    fanOut.send('room', frame('4'))
    expect(ana.got).toEqual(['1', '2', '3', '4'])
  })

  it('holds each channel on its own', () => {
    const ana = recorder()
    const bob = recorder()
    const fanOut = fanOutTo(
      new Map([
        ['a', [ana.recipient]],
        ['b', [bob.recipient]],
      ]),
    )
    fanOut.send('a', frame('a1'))
    fanOut.send('a', frame('a2'))
    fanOut.send('b', frame('b1'))
    expect(ana.got).toEqual(['a1'])
    expect(bob.got).toEqual(['b1'])
  })

  it('gets every frame to every subscriber exactly once, to one that subscribed while frames were held, and to detached sessions in order', () => {
    const ana = recorder()
    const bob = recorder()
    const subscribers = new Map([['room', [ana.recipient]]])
    const buffered: string[] = []
    const fanOut = fanOutTo(subscribers, {
      fannedOut: (channel, sent) => buffered.push(`${channel}: ${sent.toString()}`),
    })

    const sent = Array.from({ length: 50 }, (_, index) => `join c${index}`)
    sent.slice(0, 25).forEach((text) => {
      fanOut.send('room', frame(text))
    })
    subscribers.set('room', [ana.recipient, bob.recipient])
    sent.slice(25).forEach((text) => {
      fanOut.send('room', frame(text))
    })
    vi.advanceTimersByTime(10 * INTERVAL_MS)

    expect(ana.got).toEqual(sent)
    // Bob subscribed after the first was delivered: he gets every later one, the held ones included.
    expect(bob.got).toEqual(sent.slice(1))
    expect(buffered).toEqual(sent.map((text) => `room: ${text}`))
  })

  it('delivers every frame at once when the interval is 0', () => {
    const ana = recorder()
    const fanOut = fanOutTo(new Map([['room', [ana.recipient]]]), { intervalMs: 0 })
    fanOut.send('room', frame('1'))
    fanOut.send('room', frame('2'))
    expect(ana.got).toEqual(['1', '2'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('flush delivers what is held at once and leaves no timer behind', () => {
    const ana = recorder()
    const fanOut = fanOutTo(new Map([['room', [ana.recipient]]]))
    fanOut.send('room', frame('1'))
    fanOut.send('room', frame('2'))
    expect(ana.got).toEqual(['1'])
    fanOut.flush()
    expect(ana.got).toEqual(['1', '2'])
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(INTERVAL_MS)
    expect(ana.got).toEqual(['1', '2'])
  })
})
