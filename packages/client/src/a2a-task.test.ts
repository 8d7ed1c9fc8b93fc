import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import { a2aArtifact, a2aStatus } from './a2a-task.js'
import { StreamSink } from './agent-streams.js'
import { ParleyError } from './errors.js'

function sinkWithFrames(credit = 8): { sink: StreamSink; frames: ClientFrame[] } {
  const frames: ClientFrame[] = []
  const sink = new StreamSink(
    's1',
    credit,
    (frame) => {
      frames.push(frame)
      return true
    },
    () => {},
  )
  return { sink, frames }
}

describe("A2A task model helpers' wire form", () => {
  it('taskStatus and taskArtifact send { a2a: { status | artifact } } chunks; an ending state ends the stream', async () => {
    const { sink, frames } = sinkWithFrames()
    await sink.taskStatus('working')
    await sink.taskArtifact({ artifactId: 'draft', name: 'draft', text: 'first', append: false })
    await sink.taskArtifact({
      parts: [{ data: { n: 1 } }, { url: 'https://example.com/a.pdf', mediaType: 'application/pdf' }],
    })
    await sink.taskStatus('input-required', 'Which city?')
    expect(frames).toEqual([
      { type: 'stream_chunk', streamId: 's1', seq: 1, data: { a2a: { status: { state: 'working' } } } },
      {
        type: 'stream_chunk',
        streamId: 's1',
        seq: 2,
        data: { a2a: { artifact: { artifactId: 'draft', name: 'draft', text: 'first', append: false } } },
      },
      {
        type: 'stream_chunk',
        streamId: 's1',
        seq: 3,
        data: {
          a2a: {
            artifact: {
              parts: [{ data: { n: 1 } }, { url: 'https://example.com/a.pdf', mediaType: 'application/pdf' }],
            },
          },
        },
      },
      {
        type: 'stream_chunk',
        streamId: 's1',
        seq: 4,
        data: { a2a: { status: { state: 'input-required', message: 'Which city?' } } },
      },
      { type: 'stream_end', streamId: 's1' },
    ])
    expect(sink.closed).toBe(true)
  })

  it('working does not end the stream; completed and failed do', async () => {
    const working = sinkWithFrames()
    await working.sink.taskStatus('working', 'busy')
    expect(working.sink.closed).toBe(false)
    for (const state of ['completed', 'failed', 'auth-required'] as const) {
      const { sink, frames } = sinkWithFrames()
      await sink.taskStatus(state)
      expect(frames.at(-1)).toEqual({ type: 'stream_end', streamId: 's1' })
      expect(sink.closed).toBe(true)
    }
  })

  it('a2aStatus / a2aArtifact build the same data for a request answer and refuse bad input with bad_request', () => {
    expect(a2aStatus('completed', 'done')).toEqual({
      a2a: { status: { state: 'completed', message: 'done' } },
    })
    expect(a2aArtifact({ data: { ok: true }, lastChunk: true })).toEqual({
      a2a: { artifact: { data: { ok: true }, lastChunk: true } },
    })
    expect(() => a2aStatus('sleeping' as 'working')).toThrow(ParleyError)
    expect(() => a2aArtifact({ text: 'a', data: 1 })).toThrow(/exactly one of parts, text and data/)
    expect(() => a2aArtifact({ parts: [{ text: 'a', raw: 'AAAA' }] })).toThrow(
      /exactly one of text, data, url and raw/,
    )
    expect(() => a2aArtifact({})).toThrow(expect.objectContaining({ code: 'bad_request' }))
  })
})
