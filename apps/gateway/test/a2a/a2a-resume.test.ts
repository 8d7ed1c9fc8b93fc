import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { type SseEventWithId, sseReader } from './a2a-clients.js'

const V1 = { 'A2A-Version': '1.0', 'content-type': 'application/json' }

function chunkText(event: SseEventWithId): string | undefined {
  const update = (event.data.result as { artifactUpdate?: { artifact: { parts: Array<{ text?: string }> } } })
    ?.artifactUpdate
  return update?.artifact.parts[0]?.text
}

describe('SubscribeToTask resumes a cut stream from the durable task events', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('a stream cut after event 37 of 100, resubscribed with Last-Event-ID 37, gets events 38 to the end exactly once while the agent goes on', async () => {
    await fixture.start()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream(async (_data, sink) => {
      for (let index = 1; index <= 98; index += 1) {
        // Half-way the agent waits: the stream is cut and resubscribed while the task still runs.
        if (index === 60) await gate
        await sink.write(`chunk ${index}`)
      }
    })
    await writer.connect()

    const opened = await fetch(`${fixture.url}/a2a/writer`, {
      method: 'POST',
      headers: V1,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'stream-1',
        method: 'SendStreamingMessage',
        params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'write' }] } },
      }),
    })
    const first = sseReader(opened)
    const before: SseEventWithId[] = []
    for (;;) {
      const event = await first.next()
      if (event === undefined) throw new Error('the stream ended before event 37')
      before.push(event)
      if (event.id === 37) break
    }
    await first.stop()
    const taskId = (before[0]?.data.result as { task: { id: string } }).task.id
    // Event 1 is the task (its first stored event is the message), then one event per chunk.
    expect(before.map((event) => event.id)).toEqual(Array.from({ length: 37 }, (_, index) => index + 1))

    const resumed = await fetch(`${fixture.url}/a2a/writer`, {
      method: 'POST',
      headers: { ...V1, 'Last-Event-ID': '37' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'sub-1',
        method: 'SubscribeToTask',
        params: { id: taskId },
      }),
    })
    expect(resumed.headers.get('content-type')).toContain('text/event-stream')
    const second = sseReader(resumed)
    const after: SseEventWithId[] = []
    let released = false
    for (;;) {
      const event = await second.next()
      if (event === undefined) break
      after.push(event)
      if (!released) {
        released = true
        release()
      }
    }
    // 98 chunks (events 2-99) and the completed status (event 100).
    expect(after.map((event) => event.id)).toEqual(Array.from({ length: 63 }, (_, index) => index + 38))
    expect([...before, ...after].map(chunkText).filter((text) => text !== undefined)).toEqual(
      Array.from({ length: 98 }, (_, index) => `chunk ${index + 1}`),
    )
    expect(after.at(-1)?.data.result).toMatchObject({
      statusUpdate: { status: { state: 'TASK_STATE_COMPLETED' } },
    })
  })
})
