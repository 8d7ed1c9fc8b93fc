import { randomBytes } from 'node:crypto'
import { type Message, type StreamResponse, type Task, TaskState } from '@a2a-js/sdk'
import { type A2aTaskRef, a2aArtifact } from '@parley/client'
import { createPostgresTaskStore, createRedisTaskStore } from '@parley/stores'
import {
  databaseTargets,
  deleteRedisKeys,
  testRedisPrefix,
  testRedisUrl,
  useSuiteDatabase,
} from '@parley/stores/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { a2aClient, sendRequest, userText } from './a2a-clients.js'

/** What a stream event carries, for comparing event sequences. */
function summary(event: StreamResponse): string {
  const payload = event.payload
  switch (payload?.$case) {
    case 'task':
      return `task ${TaskState[payload.value.status?.state ?? 0]}`
    case 'statusUpdate': {
      const text = textOf(payload.value.status?.message)
      return `status ${TaskState[payload.value.status?.state ?? 0]}${text === undefined ? '' : ` ${text}`}`
    }
    case 'artifactUpdate':
      return `artifact ${payload.value.artifact?.artifactId}`
    default:
      return payload?.$case ?? 'empty'
  }
}

function textOf(message: Message | undefined): string | undefined {
  const content = message?.parts[0]?.content
  return content?.$case === 'text' ? content.value : undefined
}

/** A follow-up message of the caller: it carries the task's id (and context), as answering `input-required` does. */
function followUp(task: Task, text: string): Message {
  return { ...userText(text), taskId: task.id, contextId: task.contextId }
}

async function collect(stream: AsyncIterable<StreamResponse>): Promise<string[]> {
  const events: string[] = []
  for await (const event of stream) events.push(summary(event))
  return events
}

/**
 * The agent emits working, an artifact and input-required with a question; the caller's follow-up with the
 * task id reaches it as that task (`ctx.a2aTask.continued`), and its artifact and completed end the task.
 */
async function inputRequiredThenCompleted(fixture: SdkFixture): Promise<void> {
  const seen: Array<{ data: unknown; task: A2aTaskRef | undefined }> = []
  const planner = fixture.agent({ agentId: 'planner', capabilities: ['plan'] })
  planner.handleStream(async (data, sink, context) => {
    seen.push({ data, task: context.a2aTask })
    if (context.a2aTask?.continued !== true) {
      await sink.taskStatus('working', 'looking at the calendar')
      await sink.taskArtifact({ artifactId: 'draft', name: 'draft', text: 'a trip, city unknown' })
      await sink.taskStatus('input-required', 'Which city?')
      return
    }
    await sink.taskArtifact({ artifactId: 'final', name: 'final', data: { city: data } })
    await sink.taskStatus('completed')
  })
  await planner.connect()

  const client = await a2aClient(fixture.url, 'planner')
  const first = await collect(client.sendMessageStream(sendRequest(userText('plan a trip'))))
  expect(first).toEqual([
    'task TASK_STATE_WORKING',
    'status TASK_STATE_WORKING looking at the calendar',
    'artifact draft',
    'status TASK_STATE_INPUT_REQUIRED Which city?',
  ])
  const listed = await client.listTasks({
    tenant: '',
    contextId: '',
    status: 0,
    pageSize: 10,
    pageToken: '',
    historyLength: 0,
    statusTimestampAfter: undefined,
    includeArtifacts: false,
  })
  const taskId = listed.tasks[0]?.id ?? ''
  const waiting = await client.getTask({ tenant: '', id: taskId })
  expect(waiting.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED)
  expect(textOf(waiting.status?.message)).toBe('Which city?')
  expect(seen[0]).toEqual({
    data: 'plan a trip',
    task: { taskId, contextId: waiting.contextId, continued: false },
  })

  const second = await collect(client.sendMessageStream(sendRequest(followUp(waiting, 'Lisbon'))))
  expect(second).toEqual(['task TASK_STATE_WORKING', 'artifact final', 'status TASK_STATE_COMPLETED'])
  expect(seen[1]).toEqual({
    data: 'Lisbon',
    task: { taskId, contextId: waiting.contextId, continued: true },
  })

  const done = await client.getTask({ tenant: '', id: taskId })
  expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
  expect(done.artifacts.map((artifact) => artifact.artifactId)).toEqual(['draft', 'final'])
  expect(done.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'a trip, city unknown' })
  expect(done.artifacts[1]?.parts[0]?.content).toEqual({ $case: 'data', value: { city: 'Lisbon' } })
  // Both caller messages and the question are in the task's history, in order.
  expect(done.history.map(textOf)).toEqual(expect.arrayContaining(['plan a trip', 'Which city?', 'Lisbon']))
}

describe("A Parley agent speaking A2A's task model through the SDK helpers", () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('working, an artifact, input-required with a question; the follow-up with the taskId reaches the agent as that task and completes it', async () => {
    await fixture.start()
    await inputRequiredThenCompleted(fixture)
  })

  it('a follow-up SendMessage (not streaming) reaches the request handler, whose a2aArtifact answer completes the task', async () => {
    await fixture.start()
    const tasks: Array<A2aTaskRef | undefined> = []
    const agent = fixture.agent({ agentId: 'asker', capabilities: ['ask'] })
    agent.handleStream(async (_data, sink, context) => {
      tasks.push(context.a2aTask)
      await sink.taskStatus('input-required', 'Your name?')
    })
    agent.handle((data, context) => {
      tasks.push(context.a2aTask)
      return a2aArtifact({ artifactId: 'greeting', text: `hello ${String(data)}` })
    })
    await agent.connect()

    const client = await a2aClient(fixture.url, 'asker')
    const events: Task[] = []
    for await (const event of client.sendMessageStream(sendRequest(userText('greet me')))) {
      if (event.payload?.$case === 'task') events.push(event.payload.value)
    }
    const task = events[0]
    if (task === undefined) throw new Error('expected a task event')
    const result = await client.sendMessage(sendRequest(followUp(task, 'Ada')))
    if (!('id' in result)) throw new Error('expected a task')
    expect(result.id).toBe(task.id)
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(result.artifacts.map((artifact) => artifact.parts[0]?.content)).toEqual([
      { $case: 'text', value: 'hello Ada' },
    ])
    expect(tasks).toEqual([
      { taskId: task.id, contextId: task.contextId, continued: false },
      { taskId: task.id, contextId: task.contextId, continued: true },
    ])
  })

  it('an agent that emits failed ends the task FAILED with its message', async () => {
    await fixture.start()
    const agent = fixture.agent({ agentId: 'quitter', capabilities: ['quit'] })
    agent.handleStream(async (_data, sink) => {
      await sink.taskStatus('working')
      await sink.taskStatus('failed', 'the calendar service is down')
    })
    await agent.connect()

    const client = await a2aClient(fixture.url, 'quitter')
    const events = await collect(client.sendMessageStream(sendRequest(userText('plan'))))
    expect(events).toEqual([
      'task TASK_STATE_WORKING',
      'status TASK_STATE_WORKING',
      'status TASK_STATE_FAILED the calendar service is down',
    ])
  })

  it('an invalid task chunk fails the task with bad_request; a plain agent is unchanged and sees no continued task', async () => {
    await fixture.start()
    const agent = fixture.agent({ agentId: 'sloppy', capabilities: ['sloppy'] })
    agent.handleStream(async (data, sink, context) => {
      if (data === 'plain') {
        await sink.write({ a2a: 'not a task event' })
        await sink.write(context.a2aTask?.continued === false ? 'fresh task' : 'unexpected')
        return
      }
      await sink.write({ a2a: { status: { state: 'sleeping' } } })
    })
    await agent.connect()

    const client = await a2aClient(fixture.url, 'sloppy')
    const bad = await collect(client.sendMessageStream(sendRequest(userText('bad'))))
    expect(bad[0]).toBe('task TASK_STATE_WORKING')
    expect(bad[1]).toMatch(
      /^status TASK_STATE_FAILED bad_request: invalid A2A task chunk: a2a\.status\.state/,
    )
    const plain = await collect(client.sendMessageStream(sendRequest(userText('plain'))))
    expect(plain).toEqual([
      'task TASK_STATE_WORKING',
      'artifact stream',
      'artifact stream',
      'status TASK_STATE_COMPLETED',
    ])
  })
})

for (const target of databaseTargets()) {
  describe(`A2A's task model on the Postgres task store (${target.label})`, () => {
    const suite = useSuiteDatabase(target)
    const fixture = new SdkFixture()

    afterEach(async () => {
      await fixture.dispose()
    })

    it('input-required, then the follow-up with the taskId completes the task with both artifacts', async () => {
      const taskStore = createPostgresTaskStore(suite.database, { secretKey: randomBytes(32) })
      await fixture.start({}, { taskStore })
      await inputRequiredThenCompleted(fixture)
    })
  })
}

const redisUrl = testRedisUrl()
describe.skipIf(redisUrl === undefined)(
  "A2A's task model on the Redis task store (runs with REDIS_URL)",
  () => {
    const fixture = new SdkFixture()
    const prefix = testRedisPrefix()

    afterEach(async () => {
      await fixture.dispose()
      if (redisUrl !== undefined) await deleteRedisKeys(redisUrl, prefix)
    })

    it('input-required, then the follow-up with the taskId completes the task with both artifacts', async () => {
      const taskStore = createRedisTaskStore({ redis: redisUrl ?? '', prefix, secretKey: randomBytes(32) })
      try {
        await fixture.start({}, { taskStore })
        await inputRequiredThenCompleted(fixture)
      } finally {
        await fixture.dispose()
        await taskStore.close()
      }
    })
  },
)
