import { StreamOpenResult } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import { useAgentGateway } from './support/agent-clients.js'
import type { FrameOf, TestClient } from './support/test-client.js'

const WINDOW = 8

/**
 * An agent that answers every `stream_incoming` with `total` chunks, sending only while it has credit, then
 * `stream_end`.
 */
function produceChunks(agent: TestClient, total: number): void {
  const credit = new Map<string, number>()
  const sent = new Map<string, number>()
  const pump = (streamId: string) => {
    let available = credit.get(streamId) ?? 0
    let seq = sent.get(streamId) ?? 0
    while (available > 0 && seq < total) {
      seq += 1
      available -= 1
      agent.send({ type: 'stream_chunk', streamId, seq, data: seq })
    }
    credit.set(streamId, available)
    sent.set(streamId, seq)
    if (seq === total) {
      agent.send({ type: 'stream_end', streamId })
      sent.set(streamId, total + 1)
    }
  }
  agent.onFrame((frame) => {
    if (frame.type === 'stream_incoming') {
      credit.set(frame.streamId, frame.credit)
      pump(frame.streamId)
    } else if (frame.type === 'stream_credit') {
      credit.set(frame.streamId, (credit.get(frame.streamId) ?? 0) + frame.credit)
      if ((sent.get(frame.streamId) ?? 0) <= total) pump(frame.streamId)
    }
  })
}

describe('agent streams', () => {
  const harness = useAgentGateway()
  const start = () => harness.start({ agents: { streamWindow: WINDOW } })
  const agent = async (agentId: string) => (await harness.agent(agentId)).client
  const client = () => harness.client()

  async function open(opener: TestClient, target: string, credit?: number) {
    const result = await opener.ok({
      type: 'stream_open',
      target,
      data: { prompt: 'go' },
      ...(credit === undefined ? {} : { credit }),
    })
    return StreamOpenResult.parse(result).streamId
  }

  const stats = () => harness.server.gateway.stats().agents

  it('delivers a stream of 10,000 chunks complete and in order while the reader grants credit', async () => {
    await start()
    const writer = await agent('writer')
    produceChunks(writer, 10_000)
    const reader = await client()
    let read = 0
    reader.onFrame((frame) => {
      if (frame.type !== 'stream_chunk') return
      read += 1
      // Grant as the reader consumes, a few chunks at a time.
      if (read % 4 === 0) reader.send({ type: 'stream_credit', streamId: frame.streamId, credit: 4 })
    })
    const streamId = await open(reader, 'writer', 4)
    await reader.waitFor((frame) => frame.type === 'stream_end', 30_000)
    const chunks = reader.framesOf('stream_chunk').filter((frame) => frame.streamId === streamId)
    expect(chunks).toHaveLength(10_000)
    expect(chunks.every((chunk, index) => chunk.seq === index + 1 && chunk.data === index + 1)).toBe(true)
    expect(reader.framesOf('stream_error')).toHaveLength(0)
    reader.send({ type: 'stream_end', streamId })
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
    const rows = (await harness.server.audit?.query({ kind: 'stream', limit: 10 }))?.events ?? []
    expect(rows.some((row) => row.outcome === 'ok' && row.detail?.includes('chunks=10000'))).toBe(true)
  }, 60_000)

  it('ends both sides when the caller aborts', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer')
    await writer.next('stream_incoming')
    reader.send({ type: 'stream_abort', streamId, reason: 'user cancelled' })
    const abort = await writer.next('stream_abort')
    expect(abort).toMatchObject({ streamId, reason: 'user cancelled' })
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
    // The agent's chunk after the abort is for a stream that no longer exists.
    writer.send({ type: 'stream_chunk', streamId, seq: 1, data: 'late' })
    expect(await writer.next('error')).toMatchObject({ code: 'not_found' })
    expect(reader.framesOf('stream_chunk')).toHaveLength(0)
  })

  it('ends both sides when the agent aborts', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer')
    await writer.next('stream_incoming')
    writer.send({ type: 'stream_abort', streamId, reason: 'shutting down' })
    expect(await reader.next('stream_abort')).toMatchObject({ streamId, reason: 'shutting down' })
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
  })

  it('aborts with peer_gone on the other side when one side disconnects', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer')
    await writer.next('stream_incoming')
    writer.socket.terminate()
    expect(await reader.next('stream_abort')).toMatchObject({ streamId, reason: 'peer_gone' })

    const second = await agent('writer-2')
    const other = await client()
    const secondId = await open(other, 'writer-2')
    await second.next('stream_incoming')
    other.socket.terminate()
    expect(await second.next('stream_abort')).toMatchObject({ streamId: secondId, reason: 'peer_gone' })
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
  })

  it('holds a sender to the credit of a reader that stops granting: flow_control, gateway buffer bounded', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer', 4)
    expect((await writer.next('stream_incoming')).credit).toBe(4)
    const heapBefore = process.memoryUsage().heapUsed
    const payload = 'x'.repeat(1_000)
    for (let seq = 1; seq <= 4; seq += 1) writer.send({ type: 'stream_chunk', streamId, seq, data: payload })
    await reader.waitUntil(() => reader.framesOf('stream_chunk').length === 4, 5_000, 'four chunks')
    expect(stats()?.bufferedChunks).toBe(4)
    expect(stats()?.maxBufferedChunks).toBeLessThanOrEqual(WINDOW)
    // The reader never grants more; the writer keeps going.
    for (let seq = 5; seq <= 2_000; seq += 1) {
      writer.send({ type: 'stream_chunk', streamId, seq, data: payload })
    }
    const fault = (frame: FrameOf<'stream_error'>) => frame.error.code === 'flow_control'
    expect(fault(await reader.next('stream_error'))).toBe(true)
    expect(fault(await writer.next('stream_error'))).toBe(true)
    expect(reader.framesOf('stream_chunk')).toHaveLength(4)
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
    expect(stats()?.bufferedChunks).toBe(0)
    // 2,000 KB were sent at the gateway; it kept none of them (generous bound: 64 MB of noise).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
  })

  it('caps granted credit at agents.streamWindow and relays only the credit that counts: unconfirmed chunks never exceed the window', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer', 65_536)
    expect((await writer.next('stream_incoming')).credit).toBe(WINDOW)
    // Far more credit than the window, without reading anything in between: all of it is cut, none relayed.
    for (let index = 0; index < 10; index += 1) {
      reader.send({ type: 'stream_credit', streamId, credit: 1_000 })
    }
    for (let seq = 1; seq <= WINDOW; seq += 1) writer.send({ type: 'stream_chunk', streamId, seq, data: seq })
    await reader.waitUntil(() => reader.framesOf('stream_chunk').length === WINDOW, 5_000, 'a window')
    expect(writer.framesOf('stream_credit')).toEqual([])
    expect(stats()?.maxBufferedChunks).toBeLessThanOrEqual(WINDOW)
    // The reader confirms the window (and asks for far more): the writer is told one window, which it may use.
    reader.send({ type: 'stream_credit', streamId, credit: 1_000 })
    expect(await writer.next('stream_credit')).toMatchObject({ streamId, credit: WINDOW })
    for (let seq = WINDOW + 1; seq <= 2 * WINDOW; seq += 1) {
      writer.send({ type: 'stream_chunk', streamId, seq, data: seq })
    }
    await reader.waitUntil(
      () => reader.framesOf('stream_chunk').length === 2 * WINDOW,
      5_000,
      'a second window',
    )
    expect(reader.framesOf('stream_error')).toEqual([])
    writer.send({ type: 'stream_chunk', streamId, seq: 2 * WINDOW + 1, data: 'beyond' })
    expect((await reader.next('stream_error')).error.code).toBe('flow_control')
  })

  it('relays chunks from the opener to the agent within the credit the agent grants', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer')
    await writer.next('stream_incoming')
    // No credit from the agent yet: a chunk from the opener is beyond it.
    writer.send({ type: 'stream_credit', streamId, credit: 2 })
    await reader.next('stream_credit')
    reader.send({ type: 'stream_chunk', streamId, seq: 1, data: 'up' })
    expect(await writer.next('stream_chunk')).toMatchObject({ streamId, seq: 1, data: 'up' })
    reader.send({ type: 'stream_end', streamId })
    writer.send({ type: 'stream_end', streamId })
    await writer.next('stream_end')
    await reader.next('stream_end')
    await expect.poll(() => stats()?.openStreams, { timeout: 5_000 }).toBe(0)
  })

  it('ends the stream with stream_error invalid_frame when a seq is skipped', async () => {
    await start()
    const writer = await agent('writer')
    const reader = await client()
    const streamId = await open(reader, 'writer')
    await writer.next('stream_incoming')
    writer.send({ type: 'stream_chunk', streamId, seq: 2, data: 'skipped one' })
    expect((await reader.next('stream_error')).error.code).toBe('invalid_frame')
    expect((await writer.next('stream_error')).error.code).toBe('invalid_frame')
  })

  it('answers policy_denied for a stream access denies, and audits it', async () => {
    const server = await harness.start(
      {},
      {
        agentAccess: () => ({
          check: (request) =>
            request.action === 'stream'
              ? { allowed: false, code: 'policy_denied', rule: 'pol_no_streams', message: 'no streams' }
              : { allowed: true, effect: 'default' },
        }),
      },
    )
    const writer = await agent('writer')
    const reader = await client()
    expect(await reader.request({ type: 'stream_open', target: 'writer', data: 1 })).toMatchObject({
      type: 'error',
      code: 'policy_denied',
      details: { rule: 'pol_no_streams' },
    })
    expect(writer.framesOf('stream_incoming')).toHaveLength(0)
    const rows = (await server.audit?.query({ kind: 'stream', limit: 10 }))?.events ?? []
    expect(rows.map((row) => row.outcome)).toEqual(['denied'])
  })

  it('answers no_route for a stream to an unknown agent, rate_limited beyond maxStreamsPerConnection', async () => {
    await harness.start({ agents: { maxStreamsPerConnection: 1 } })
    await agent('writer')
    const reader = await client()
    expect(await reader.request({ type: 'stream_open', target: 'nobody', data: 1 })).toMatchObject({
      type: 'error',
      code: 'no_route',
    })
    await open(reader, 'writer')
    expect(await reader.request({ type: 'stream_open', target: 'writer', data: 1 })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    })
  })
})
