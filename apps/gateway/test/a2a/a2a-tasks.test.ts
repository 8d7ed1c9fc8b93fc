import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TaskState } from '@a2a-js/sdk'
import { createMemoryTaskStore, type TaskStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway } from '../support/test-gateway.js'
import { a2aClient, sendRequest, userText } from './a2a-clients.js'

describe('A2A tasks in the durable task store', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  async function start(tasks: TaskStore) {
    fixture.server = await startTestGateway({}, { taskStore: tasks })
  }

  it('stores a streamed task as its message, one artifact event per chunk in order, then the completed status', async () => {
    const tasks = createMemoryTaskStore()
    await start(tasks)
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream(async (_data, sink) => {
      for (let index = 1; index <= 5; index += 1) await sink.write(`chunk ${index}`)
    })
    await writer.connect()

    const client = await a2aClient(fixture.url, 'writer')
    let taskId = ''
    for await (const event of client.sendMessageStream(sendRequest(userText('go')))) {
      if (event.payload?.$case === 'task') taskId = event.payload.value.id
    }
    const events = await tasks.events(taskId, { owner: 'anonymous' })
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(events.map((event) => event.kind)).toEqual([
      'message',
      'artifact',
      'artifact',
      'artifact',
      'artifact',
      'artifact',
      'status',
    ])
    const chunks = events
      .filter((event) => event.kind === 'artifact')
      .map((event) =>
        (event.payload as { artifact: { parts: Array<{ text: string }> } }).artifact.parts.map(
          (part) => part.text,
        ),
      )
    expect(chunks).toEqual([1, 2, 3, 4, 5].map((index) => [`chunk ${index}`]))
    expect(events.at(-1)?.state).toBe('completed')
    const record = await tasks.get(taskId, { owner: 'anonymous' })
    expect(record).toMatchObject({ agentId: 'writer', owner: 'anonymous', state: 'completed' })

    const read = await client.getTask({ tenant: '', id: taskId })
    expect(read.artifacts[0]?.parts.map((part) => part.content)).toEqual(
      [1, 2, 3, 4, 5].map((index) => ({ $case: 'text', value: `chunk ${index}` })),
    )
  })

  it('listTasks pages the caller tasks of the agent, newest first, and another agent face does not see them', async () => {
    await start(createMemoryTaskStore())
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    const other = fixture.agent({ agentId: 'other', capabilities: ['other'] })
    other.handle((data) => data)
    await Promise.all([echo.connect(), other.connect()])

    const client = await a2aClient(fixture.url, 'echo')
    const sent: string[] = []
    for (let index = 0; index < 5; index += 1) {
      const result = await client.sendMessage(sendRequest(userText(`message ${index}`)))
      if ('id' in result) sent.push(result.id)
    }
    const seen: string[] = []
    let pageToken = ''
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await client.listTasks({
        tenant: '',
        contextId: '',
        status: TaskState.TASK_STATE_UNSPECIFIED,
        pageSize: 2,
        pageToken,
        statusTimestampAfter: undefined,
      })
      expect(page.tasks.length).toBeLessThanOrEqual(2)
      expect(page.totalSize).toBe(5)
      seen.push(...page.tasks.map((task) => task.id))
      pageToken = page.nextPageToken
      if (pageToken === '') break
    }
    expect(seen).toEqual([...sent].reverse())

    const otherClient = await a2aClient(fixture.url, 'other')
    await expect(otherClient.getTask({ tenant: '', id: sent[0] ?? '' })).rejects.toMatchObject({
      name: 'TaskNotFoundError',
    })
    const none = await otherClient.listTasks({
      tenant: '',
      contextId: '',
      status: TaskState.TASK_STATE_UNSPECIFIED,
      pageToken: '',
      statusTimestampAfter: undefined,
    })
    expect(none.tasks).toEqual([])
  })

  it('keeps a task across a gateway restart on the postgres store backend (embedded PGlite)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-a2a-restart-'))
    try {
      const config = { dataDir, delivery: { storeBackend: 'postgres' as const } }
      fixture.server = await startTestGateway(config)
      const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
      echo.handle((data) => `kept: ${String(data)}`)
      await echo.connect()
      const sent = await (await a2aClient(fixture.url, 'echo')).sendMessage(sendRequest(userText('durable')))
      if (!('id' in sent)) throw new Error('expected a task')
      await fixture.dispose()

      fixture.server = await startTestGateway(config)
      const again = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
      again.handle((data) => data)
      await again.connect()
      const read = await (await a2aClient(fixture.url, 'echo')).getTask({ tenant: '', id: sent.id })
      expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(read.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'kept: durable' })
      expect(read.history[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'durable' })
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
