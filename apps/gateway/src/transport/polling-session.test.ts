import { describe, expect, it } from 'vitest'
import { PollAckError, PollSession } from './polling-session.js'

function newSession(options: { maxBatchSize?: number; longPollTimeoutMs?: number } = {}) {
  const ended: number[] = []
  const created = new PollSession({
    id: 'node_x.session',
    maxBatchSize: options.maxBatchSize ?? 100,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 5_000,
    now: Date.now(),
    onEnded: (_session, code) => ended.push(code),
  })
  return { session: created, ended }
}

const frame = (n: number) => JSON.stringify({ type: 'pong', n })

describe('PollSession', () => {
  it('numbers frames from 1 and keeps them, counted as buffered bytes, until a later recv acknowledges them', async () => {
    const { session } = newSession()
    session.sendBatch([frame(1), Buffer.from(frame(2))])
    expect(session.bufferedBytes).toBe(2 * frame(1).length)
    const first = await session.recv(0, 0, Date.now())
    expect(first).toEqual({
      cursor: 2,
      frames: [
        { type: 'pong', n: 1 },
        { type: 'pong', n: 2 },
      ],
    })
    // Not acknowledged yet: the same ack gets the same frames.
    expect(await session.recv(0, 0, Date.now())).toEqual(first)
    expect(await session.recv(2, 0, Date.now())).toEqual({ cursor: 2, frames: [] })
    expect(session.bufferedBytes).toBe(0)
  })

  it('returns at most maxBatchSize frames per recv', async () => {
    const { session } = newSession({ maxBatchSize: 2 })
    session.sendBatch([frame(1), frame(2), frame(3)])
    expect((await session.recv(0, 0, Date.now())).cursor).toBe(2)
    expect(await session.recv(2, 0, Date.now())).toEqual({ cursor: 3, frames: [{ type: 'pong', n: 3 }] })
  })

  it('refuses an ack beyond the last frame', () => {
    const { session } = newSession()
    session.sendBatch([frame(1)])
    expect(() => session.recv(2, 0, Date.now())).toThrow(PollAckError)
  })

  it('wakes a waiting recv when frames arrive, and releases it empty when a second recv comes', async () => {
    const { session } = newSession()
    const waiting = session.recv(0, undefined, Date.now())
    expect(session.isPolling).toBe(true)
    const second = session.recv(0, undefined, Date.now())
    expect(await waiting).toEqual({ cursor: 0, frames: [] })
    session.sendBatch([frame(1)])
    expect(await second).toEqual({ cursor: 1, frames: [{ type: 'pong', n: 1 }] })
  })

  it('answers an empty recv after the wait with its own ack', async () => {
    const { session } = newSession({ longPollTimeoutMs: 20 })
    expect(await session.recv(0, 10_000, Date.now())).toEqual({ cursor: 0, frames: [] })
  })

  it('hands out the close after the last frames and ends once the client answers it', async () => {
    const { session, ended } = newSession({ maxBatchSize: 1 })
    session.sendBatch([frame(1), frame(2)])
    session.close(4006, 'slow_consumer')
    expect(session.isOpen).toBe(false)
    session.sendBatch([frame(3)])
    expect(await session.recv(0, 0, Date.now())).toEqual({ cursor: 1, frames: [{ type: 'pong', n: 1 }] })
    const last = await session.recv(1, 0, Date.now())
    expect(last).toEqual({
      cursor: 2,
      frames: [{ type: 'pong', n: 2 }],
      closed: { code: 4006, reason: 'slow_consumer' },
    })
    // A lost closing answer can be asked for again.
    expect(await session.recv(1, 0, Date.now())).toEqual(last)
    expect(ended).toEqual([])
    session.closeByClient()
    expect(ended).toEqual([4006])
  })

  it('ends at once when terminated, dropping what was queued', async () => {
    const { session, ended } = newSession()
    session.sendBatch([frame(1)])
    session.terminate()
    expect(ended).toEqual([1006])
    expect(await session.recv(0, 0, Date.now())).toEqual({
      cursor: 0,
      frames: [],
      closed: { code: 1006, reason: 'terminated' },
    })
  })
})
