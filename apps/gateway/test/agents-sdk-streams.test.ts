import { AbortedError, type AgentCaller, type StreamSink } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture, trackedWebSocket, waitUntil } from './support/sdk-agents.js'

const STREAM_WINDOW = 8

/** Every frame the client sent before has been handled by the gateway once this answers. */
async function roundTrip(client: AgentCaller): Promise<void> {
  await client.agents()
}

/** Reads `count` chunks (or to the end) off an open iterator. */
async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const taken: T[] = []
  while (taken.length < count) {
    const next = await iterator.next()
    if (next.done === true) break
    taken.push(next.value)
  }
  return taken
}

/** Reads the stream to its end; resolves with the chunks read and the error that ended it, if any. */
async function drain<T>(stream: AsyncIterable<T>): Promise<{ chunks: T[]; error: unknown }> {
  const chunks: T[] = []
  try {
    for await (const chunk of stream) chunks.push(chunk)
    return { chunks, error: undefined }
  } catch (error) {
    return { chunks, error }
  }
}

describe('agent streams through the SDK against a real gateway', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it("a stream of 10,000 chunks arrives complete and in order; aborting from the caller ends both sides; aborting from the agent ends both sides; a reader that stops reading holds the agent's writer (the gateway's buffered chunks stay within streamWindow)", async () => {
    const server = await fixture.start({ agents: { streamWindow: STREAM_WINDOW } })
    const agentStats = () => server.gateway.stats().agents
    const sinks: StreamSink[] = []
    const handlerDone: Array<Promise<void>> = []
    let written = 0
    let writing = false
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream((data, sink) => {
      sinks.push(sink)
      const run = (async () => {
        const { mode, total } = data as { mode: 'count' | 'forever' | 'agent-abort'; total: number }
        if (mode === 'agent-abort') {
          for (let n = 1; n <= 3; n += 1) await sink.write(n)
          sink.abort('model unloaded')
          return
        }
        for (let n = 1; mode === 'forever' || n <= total; n += 1) {
          writing = true
          await sink.write(n)
          writing = false
          written = n
        }
        sink.end({ count: total })
      })()
      handlerDone.push(run.catch(() => undefined))
      return run
    })
    const reader = fixture.caller('reader')
    await Promise.all([writer.connect(), reader.connect()])

    // 1. 10,000 chunks, complete and in order, then the trailer.
    const long = reader.stream<number>('writer', { mode: 'count', total: 10_000 })
    const read = await drain(long)
    expect(read.error).toBeUndefined()
    expect(read.chunks).toEqual(Array.from({ length: 10_000 }, (_, index) => index + 1))
    expect(long.trailer).toEqual({ count: 10_000 })
    await waitUntil(() => agentStats().openStreams === 0, 5_000, 'the long stream to close on the gateway')

    // 2. The caller aborts: its reads end with AbortedError, the agent's sink.signal fires and its handler ends.
    const cancelled = reader.stream<number>('writer', { mode: 'forever', total: 0 })
    const cancelledReads = cancelled[Symbol.asyncIterator]()
    expect(await take(cancelledReads, 5)).toEqual([1, 2, 3, 4, 5])
    cancelled.abort('user cancelled')
    await expect(drain(cancelled)).resolves.toMatchObject({ error: expect.any(AbortedError) })
    const cancelledSink = sinks[1]
    await waitUntil(() => cancelledSink?.signal.aborted === true, 5_000, "the agent's abort signal")
    await handlerDone[1]
    expect(cancelledSink?.closed).toBe(true)
    await waitUntil(
      () => agentStats().openStreams === 0,
      5_000,
      'the cancelled stream to close on the gateway',
    )

    // 3. The agent aborts: the caller reads what was sent, then AbortedError with the agent's reason.
    const dropped = reader.stream<number>('writer', { mode: 'agent-abort', total: 0 })
    const droppedRead = await drain(dropped)
    expect(droppedRead.chunks).toEqual([1, 2, 3])
    expect(droppedRead.error).toBeInstanceOf(AbortedError)
    expect(droppedRead.error).toMatchObject({ reason: 'model unloaded' })
    expect(dropped.done).toBe(true)
    await waitUntil(() => agentStats().openStreams === 0, 5_000, 'the aborted stream to close on the gateway')

    // 4. A reader that stops: the agent's write waits for credit, the gateway holds at most the window.
    written = 0
    const slow = reader.stream<number>('writer', { mode: 'count', total: 100 }, { credit: 64 })
    const slowReads = slow[Symbol.asyncIterator]()
    expect(await take(slowReads, 2)).toEqual([1, 2])
    const slowSink = sinks[3]
    await waitUntil(
      () => writing && slowSink?.available === 0,
      5_000,
      "the agent's writer to wait for credit",
    )
    const writtenWhilePaused = written
    // Frames in flight on both connections have arrived once these round trips are answered.
    await roundTrip(writer)
    await roundTrip(reader)
    expect(written).toBe(writtenWhilePaused)
    expect(writing).toBe(true)
    // The gateway capped the caller's 64 at the window: never more than that unread on the way.
    expect(writtenWhilePaused - 2).toBeLessThanOrEqual(STREAM_WINDOW)
    expect(agentStats().openStreams).toBe(1)
    expect(agentStats().maxBufferedChunks).toBeLessThanOrEqual(STREAM_WINDOW)
    expect(agentStats().bufferedChunks).toBeLessThanOrEqual(STREAM_WINDOW)
    expect(agentStats().bufferedChunks).toBeGreaterThan(0)
    expect(slow.buffered).toBeLessThanOrEqual(STREAM_WINDOW)

    // Reading again releases the writer: the rest arrives in order.
    const rest = await take(slowReads, 1_000)
    expect([1, 2, ...rest]).toEqual(Array.from({ length: 100 }, (_, index) => index + 1))
    expect(slow.trailer).toEqual({ count: 100 })
    await waitUntil(() => agentStats().openStreams === 0, 5_000, 'the slow stream to close on the gateway')
  }, 60_000)

  it('a side that dies mid-stream ends the other: the agent sees its signal fire, the caller gets AbortedError peer_gone', async () => {
    const server = await fixture.start()
    const sinks: StreamSink[] = []
    const agentSocket = trackedWebSocket()
    const writer = fixture.agent({
      agentId: 'writer',
      capabilities: ['write'],
      WebSocket: agentSocket.WebSocket,
      reconnect: false,
    })
    writer.handleStream(async (_data, sink) => {
      sinks.push(sink)
      for (let n = 1; ; n += 1) await sink.write(n)
    })
    const doomedSocket = trackedWebSocket()
    const doomed = fixture.caller('doomed-reader', { WebSocket: doomedSocket.WebSocket, reconnect: false })
    const survivor = fixture.caller('surviving-reader')
    await Promise.all([writer.connect(), doomed.connect(), survivor.connect()])

    // The caller dies: the agent's sink.signal fires (stream_abort peer_gone) and its handler stops.
    const first = doomed.stream<number>('writer', null)
    expect(await take(first[Symbol.asyncIterator](), 1)).toEqual([1])
    doomedSocket.sockets[0]?.terminate()
    await waitUntil(() => sinks[0]?.signal.aborted === true, 5_000, "the agent's abort signal")
    expect(sinks[0]?.signal.reason).toMatchObject({ reason: 'peer_gone' })

    // The agent dies: the caller reads what arrived, then AbortedError with reason peer_gone.
    const second = survivor.stream<number>('writer', null)
    const reads = second[Symbol.asyncIterator]()
    expect(await take(reads, 1)).toEqual([1])
    agentSocket.sockets[0]?.terminate()
    const rest = await drain({ [Symbol.asyncIterator]: () => reads })
    expect(rest.error).toBeInstanceOf(AbortedError)
    expect(rest.error).toMatchObject({ reason: 'peer_gone' })
    await waitUntil(() => server.gateway.stats().agents.openStreams === 0, 5_000, 'both streams closed')
  })
})
