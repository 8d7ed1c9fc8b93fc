import { type StreamResponse, TaskState } from '@a2a-js/sdk'
import type { StreamSink } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture, waitUntil } from '../support/sdk-agents.js'
import { a2aClient, patientAgent, rawRpc, sendRequest, userText } from './a2a-clients.js'

/** What a stream event carries, for comparing event sequences. */
function summary(event: StreamResponse): string {
  const payload = event.payload
  switch (payload?.$case) {
    case 'task':
      return `task ${TaskState[payload.value.status?.state ?? 0]}`
    case 'statusUpdate':
      return `status ${TaskState[payload.value.status?.state ?? 0]}`
    case 'artifactUpdate': {
      const content = payload.value.artifact?.parts[0]?.content
      return `chunk ${content?.$case === 'text' ? content.value : JSON.stringify(content)}`
    }
    case 'message':
      return 'message'
    default:
      return 'empty'
  }
}

describe('A2A messages to a Parley agent through the official SDK client', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('sendMessage returns the answer of a plain AgentClient connected over WebSocket, as a completed task', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    await echo.connect()

    const client = await a2aClient(fixture.url, 'echo')
    const result = await client.sendMessage(sendRequest(userText('hello')))
    expect('id' in result).toBe(true)
    if (!('id' in result)) return
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(result.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'echo: hello' })
  })

  it('refuses a message to an agent that left: at once while it is inactive, as an unknown agent once it is gone', async () => {
    await fixture.start({ agentTimeout: 1 })
    const leaver = fixture.agent({ agentId: 'leaver', capabilities: ['echo'] })
    leaver.handle((data) => `echo: ${String(data)}`)
    await leaver.connect()
    const v1 = { 'A2A-Version': '1.0' }
    const send = (id: number) =>
      rawRpc(
        fixture.url,
        'leaver',
        {
          jsonrpc: '2.0',
          id,
          method: 'SendMessage',
          params: {
            message: { messageId: `m-${id}`, role: 'ROLE_USER', parts: [{ text: 'hi' }] },
            configuration: { returnImmediately: false },
          },
        },
        v1,
      )
    // Known and connected: answered (the check that it is known comes from this node's view).
    expect((await send(1)).body).toMatchObject({
      id: 1,
      result: { task: { status: { state: 'TASK_STATE_COMPLETED' } } },
    })
    await leaver.close()
    // Inactive: still known (its card is served), but the message is refused, never answered.
    const refused = await send(2)
    expect(refused.body).toMatchObject({ id: 2, error: { code: expect.any(Number) } })
    expect(refused.body.result).toBeUndefined()
    // Gone after agentTimeout: unknown, as any agent the gateway never saw.
    await expect
      .poll(async () => (await send(3)).body, { timeout: 10_000, interval: 200 })
      .toMatchObject({
        id: 3,
        error: { code: -32042, message: 'no agent leaver', data: [{ reason: 'NO_ROUTE' }] },
      })
  })

  it('getTask returns the finished task with the caller message in its history', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => ({ got: data }))
    await echo.connect()

    const client = await a2aClient(fixture.url, 'echo')
    const sent = await client.sendMessage(sendRequest(userText('remember me')))
    if (!('id' in sent)) throw new Error('expected a task')
    const task = await client.getTask({ tenant: '', id: sent.id })
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(task.history.map((message) => message.parts[0]?.content)).toContainEqual({
      $case: 'text',
      value: 'remember me',
    })
    expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'data', value: { got: 'remember me' } })
    const none = await client.getTask({ tenant: '', id: sent.id, historyLength: 0 })
    expect(none.history).toEqual([])
    // A completed task is not cancelable (-32002).
    await expect(client.cancelTask({ tenant: '', id: sent.id, metadata: {} })).rejects.toMatchObject({
      name: 'TaskNotCancelableError',
    })
  })

  it('sendMessageStream yields the agent stream chunks in order and ends with a completed task', async () => {
    await fixture.start()
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream(async (data, sink) => {
      for (let index = 1; index <= 20; index += 1) await sink.write(`${String(data)}-${index}`)
    })
    await writer.connect()

    const client = await a2aClient(fixture.url, 'writer')
    const events: string[] = []
    for await (const event of client.sendMessageStream(sendRequest(userText('part'))))
      events.push(summary(event))
    expect(events).toEqual([
      'task TASK_STATE_WORKING',
      ...Array.from({ length: 20 }, (_, index) => `chunk part-${index + 1}`),
      'status TASK_STATE_COMPLETED',
    ])
  })

  it('cancelTask ends a running stream task CANCELED and the agent sink sees its abort signal', async () => {
    await fixture.start()
    let aborted: (reason: unknown) => void = () => {}
    const sawAbort = new Promise((resolve) => {
      aborted = resolve
    })
    const worker = fixture.agent({ agentId: 'worker', capabilities: ['work'] })
    worker.handleStream(async (_data, sink: StreamSink) => {
      await sink.write('started')
      await new Promise<void>((resolve) =>
        sink.signal.addEventListener('abort', () => {
          aborted(sink.signal.reason)
          resolve()
        }),
      )
    })
    await worker.connect()

    const client = await a2aClient(fixture.url, 'worker')
    const events: string[] = []
    let taskId = ''
    const stream = client.sendMessageStream(sendRequest(userText('long job')))
    for await (const event of stream) {
      events.push(summary(event))
      if (event.payload?.$case === 'task') taskId = event.payload.value.id
      if (event.payload?.$case === 'artifactUpdate') {
        const canceled = await client.cancelTask({ tenant: '', id: taskId, metadata: {} })
        expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
      }
    }
    await sawAbort
    expect(events).toEqual(['task TASK_STATE_WORKING', 'chunk started', 'status TASK_STATE_CANCELED'])
    expect((await client.getTask({ tenant: '', id: taskId })).status?.state).toBe(
      TaskState.TASK_STATE_CANCELED,
    )
    // Canceling it again answers the canceled task.
    await expect(client.cancelTask({ tenant: '', id: taskId, metadata: {} })).resolves.toMatchObject({
      status: { state: TaskState.TASK_STATE_CANCELED },
    })
  })

  it('cancelTask on a long request sent with returnImmediately ends it CANCELED and fires the handler abort signal', async () => {
    await fixture.start()
    const { handlerStarted, sawAbort } = await patientAgent(fixture, 'slow', 'slow')

    const client = await a2aClient(fixture.url, 'slow')
    const submitted = await client.sendMessage({
      ...sendRequest(userText('take your time')),
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: undefined,
        returnImmediately: true,
      },
    })
    if (!('id' in submitted)) throw new Error('expected a task')
    expect(submitted.status?.state).toBe(TaskState.TASK_STATE_WORKING)
    await handlerStarted
    const canceled = await client.cancelTask({ tenant: '', id: submitted.id, metadata: {} })
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
    expect(await sawAbort).toMatchObject({ name: 'AbortError', reason: 'canceled' })
    expect((await client.getTask({ tenant: '', id: submitted.id })).status?.state).toBe(
      TaskState.TASK_STATE_CANCELED,
    )
  })

  it('writes one a2a audit row per call: operation, task id as correlation id, agent as target, outcome', async () => {
    const server = await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    const client = await a2aClient(fixture.url, 'echo')
    const sent = await client.sendMessage(sendRequest(userText('audit me')))
    if (!('id' in sent)) throw new Error('expected a task')
    for await (const _event of client.sendMessageStream(sendRequest(userText('stream me')))) {
      // drained: the stream's row is written when it ends
    }
    await client.getTask({ tenant: '', id: sent.id })
    await expect(client.getTask({ tenant: '', id: 'no-such-task' })).rejects.toThrow()

    const rows = async () => (await server.audit?.query({ kind: 'a2a', limit: 50 }))?.events ?? []
    await waitUntil(async () => (await rows()).length >= 4, 10_000, 'four a2a rows')
    const written = (await rows()).map((row) => ({
      detail: row.detail,
      outcome: row.outcome,
      target: row.target,
      principal: row.principal,
      clientId: row.clientId,
      task: row.correlationId === sent.id ? 'sent' : row.correlationId,
    }))
    const base = { target: 'echo', principal: 'anonymous', clientId: 'a2a:anonymous' }
    expect(written).toEqual(
      expect.arrayContaining([
        { ...base, detail: 'message', outcome: 'ok', task: 'sent' },
        { ...base, detail: 'get', outcome: 'ok', task: 'sent' },
        { ...base, detail: 'get -32001', outcome: 'error', task: 'no-such-task' },
      ]),
    )
    const streamRow = written.find((row) => row.detail === 'stream')
    expect(streamRow).toMatchObject({ ...base, outcome: 'ok' })
    expect(typeof streamRow?.task).toBe('string')
  })

  it('answers a raw v0.3 message/send without an A2A-Version header in the v0.3 shape', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    await echo.connect()

    const answer = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 7,
      method: 'message/send',
      params: {
        message: { kind: 'message', messageId: 'm-1', role: 'user', parts: [{ kind: 'text', text: 'hi' }] },
      },
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: {
        kind: 'task',
        status: { state: 'completed' },
        artifacts: [{ parts: [{ kind: 'text', text: 'echo: hi' }] }],
      },
    })
  })

  it('answers malformed JSON, an unknown method, an unknown agent and an unknown task with typed JSON-RPC errors, and keeps serving', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    const v1 = { 'A2A-Version': '1.0' }

    const malformed = await rawRpc(fixture.url, 'echo', '{"jsonrpc": "2.0", "id": 1, "method": ', v1)
    expect(malformed.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
    const unknownMethod = await rawRpc(
      fixture.url,
      'echo',
      { jsonrpc: '2.0', id: 2, method: 'NoSuchMethod', params: {} },
      v1,
    )
    expect(unknownMethod.body).toMatchObject({ id: 2, error: { code: -32601 } })
    const notAnObject = await rawRpc(fixture.url, 'echo', '[1, 2, 3]', v1)
    expect((notAnObject.body.error as { code: number }).code).toBeLessThan(-32000)
    const unknownAgent = await rawRpc(
      fixture.url,
      'nobody',
      { jsonrpc: '2.0', id: 3, method: 'GetTask', params: { id: 't' } },
      v1,
    )
    expect(unknownAgent.body).toMatchObject({
      id: 3,
      error: {
        code: -32042,
        data: [{ reason: 'NO_ROUTE', domain: 'parley', metadata: { code: 'no_route' } }],
      },
    })
    const unknownTask = await rawRpc(
      fixture.url,
      'echo',
      { jsonrpc: '2.0', id: 4, method: 'GetTask', params: { id: 'no-such-task' } },
      v1,
    )
    expect(unknownTask.body).toMatchObject({ id: 4, error: { code: -32001 } })
    const legacyUnknownTask = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 5,
      method: 'tasks/get',
      params: { id: 'no-such-task' },
    })
    expect(legacyUnknownTask.body).toMatchObject({ id: 5, error: { code: -32001 } })

    const client = await a2aClient(fixture.url, 'echo')
    const result = await client.sendMessage(sendRequest(userText('still here')))
    expect('id' in result && result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
  })
})
