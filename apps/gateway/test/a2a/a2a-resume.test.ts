import { createMemoryDeliveryBackend, createMemoryTaskStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork } from '../../src/bus/memory-bus.js'
import { parseConfig } from '../../src/config.js'
import { deliveryBackendOptions } from '../../src/delivery/open-delivery-backend.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'
import { a2aClient, type SseEventWithId, sseReader } from './a2a-clients.js'

const V1 = { 'A2A-Version': '1.0', 'content-type': 'application/json' }

async function openStream(url: string, agentId: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/a2a/${agentId}`, {
    method: 'POST',
    headers: { ...V1, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 'stream-1',
      method: 'SendStreamingMessage',
      params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'write' }] } },
    }),
  })
}

async function subscribe(url: string, agentId: string, taskId: string, lastEventId: number) {
  return fetch(`${url}/a2a/${agentId}`, {
    method: 'POST',
    headers: { ...V1, 'Last-Event-ID': String(lastEventId) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'sub-1', method: 'SubscribeToTask', params: { id: taskId } }),
  })
}

/** Reads until the event with sequence number `last`, then cuts the connection. */
async function readUntil(response: Response, last: number): Promise<SseEventWithId[]> {
  const reader = sseReader(response)
  const events: SseEventWithId[] = []
  for (;;) {
    const event = await reader.next()
    if (event === undefined) throw new Error(`the stream ended before event ${last}`)
    events.push(event)
    if (event.id === last) break
  }
  await reader.stop()
  return events
}

async function readAll(response: Response, onFirst: () => void = () => {}): Promise<SseEventWithId[]> {
  const reader = sseReader(response)
  const events: SseEventWithId[] = []
  for (;;) {
    const event = await reader.next()
    if (event === undefined) return events
    if (events.length === 0) onFirst()
    events.push(event)
  }
}

/**
 * Connects agent `writer`, whose stream handler writes `chunks` chunks but waits before chunk `pauseAt` until
 * the returned release is called: the stream is cut and resubscribed while the task still runs.
 */
async function gatedWriter(fixture: SdkFixture, chunks: number, pauseAt: number): Promise<() => void> {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
  writer.handleStream(async (_data, sink) => {
    for (let index = 1; index <= chunks; index += 1) {
      if (index === pauseAt) await gate
      await sink.write(`chunk ${index}`)
    }
  })
  await writer.connect()
  return release
}

/** The task id of a stream's first event (the task). */
function taskIdOf(events: SseEventWithId[]): string {
  const result = events[0]?.data.result as { task?: { id: string } } | undefined
  if (result?.task === undefined) throw new Error('the stream did not start with the task')
  return result.task.id
}

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
    const release = await gatedWriter(fixture, 98, 60)

    const before = await readUntil(await openStream(fixture.url, 'writer'), 37)
    const taskId = taskIdOf(before)
    // Event 1 is the task (its first stored event is the message), then one event per chunk.
    expect(before.map((event) => event.id)).toEqual(Array.from({ length: 37 }, (_, index) => index + 1))

    const resumed = await subscribe(fixture.url, 'writer', taskId, 37)
    expect(resumed.headers.get('content-type')).toContain('text/event-stream')
    const after = await readAll(resumed, release)
    // 98 chunks (events 2-99) and the completed status (event 100).
    expect(after.map((event) => event.id)).toEqual(Array.from({ length: 63 }, (_, index) => index + 38))
    expect([...before, ...after].map(chunkText).filter((text) => text !== undefined)).toEqual(
      Array.from({ length: 98 }, (_, index) => `chunk ${index + 1}`),
    )
    expect(after.at(-1)?.data.result).toMatchObject({
      statusUpdate: { status: { state: 'TASK_STATE_COMPLETED' } },
    })
  })

  it('resumes on the other node of a two-node setup sharing the task store, and reads the task there', async () => {
    const network = createMemoryBusNetwork()
    const buses = ['node-1', 'node-2'].map((id) => network.join(id))
    const deliveryBackend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    const taskStore = createMemoryTaskStore()
    const nodes: TestGateway[] = []
    try {
      for (const bus of buses) nodes.push(await startTestGateway({}, { bus, deliveryBackend, taskStore }))
      const [one, two] = nodes.map((node) => node.started.url) as [string, string]
      fixture.server = nodes[0]
      const release = await gatedWriter(fixture, 30, 20)

      const before = await readUntil(await openStream(one, 'writer'), 10)
      const taskId = taskIdOf(before)
      const after = await readAll(await subscribe(two, 'writer', taskId, 10), release)
      expect(after.map((event) => event.id)).toEqual(Array.from({ length: 22 }, (_, index) => index + 11))
      expect([...before, ...after].map(chunkText).filter((text) => text !== undefined)).toEqual(
        Array.from({ length: 30 }, (_, index) => `chunk ${index + 1}`),
      )
      const read = await (await a2aClient(two, 'writer')).getTask({ tenant: '', id: taskId })
      expect(read.artifacts[0]?.parts).toHaveLength(30)
    } finally {
      fixture.server = undefined
      await fixture.dispose()
      for (const node of nodes) await node.dispose()
      for (const bus of buses) await bus.close()
      await deliveryBackend.close()
    }
  })
})
