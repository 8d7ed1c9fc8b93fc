import { TaskState } from '@a2a-js/sdk'
import { ClientFactory, RestTransportFactory } from '@a2a-js/sdk/client'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from '../support/admin-api.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { sendRequest, userText } from './a2a-clients.js'

const V1 = { 'A2A-Version': '1.0', 'content-type': 'application/json' }

describe('the A2A HTTP+JSON binding', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('answers message:send, tasks/{id} and message:stream from the official REST client transport', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    echo.handleStream(async (data, sink) => {
      await sink.write(`${String(data)} 1`)
      await sink.write(`${String(data)} 2`)
    })
    await echo.connect()

    const client = await new ClientFactory({
      transports: [new RestTransportFactory()],
      preferredTransports: ['HTTP+JSON'],
    }).createFromUrl(`${fixture.url}/a2a/echo/`)
    const sent = await client.sendMessage(sendRequest(userText('over rest')))
    if (!('id' in sent)) throw new Error('expected a task')
    expect(sent.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'echo: over rest' })
    const read = await client.getTask({ tenant: '', id: sent.id, historyLength: 1 })
    expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(read.history).toHaveLength(1)

    const kinds: string[] = []
    for await (const event of client.sendMessageStream(sendRequest(userText('chunk')))) {
      const payload = event.payload
      if (payload?.$case === 'artifactUpdate') {
        const content = payload.value.artifact?.parts[0]?.content
        kinds.push(content?.$case === 'text' ? content.value : '?')
      } else kinds.push(payload?.$case ?? 'empty')
    }
    expect(kinds).toEqual(['task', 'chunk 1', 'chunk 2', 'statusUpdate'])
  })

  it('answers typed HTTP errors: unknown task 404, not cancelable 400, unknown agent 404, policy denial 403 naming the rule, bad JSON 400', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    const base = `${fixture.url}/a2a/echo`

    const unknownTask = await fetch(`${base}/tasks/no-such-task`, { headers: V1 })
    expect(unknownTask.status).toBe(404)
    expect(await unknownTask.json()).toMatchObject({
      error: { code: 404, details: [{ reason: 'TASK_NOT_FOUND' }] },
    })

    const sent = await fetch(`${base}/message:send`, {
      method: 'POST',
      headers: V1,
      body: JSON.stringify({ message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'x' }] } }),
    })
    expect(sent.status).toBe(200)
    const { task } = (await sent.json()) as { task: { id: string; status: { state: string } } }
    expect(task.status.state).toBe('TASK_STATE_COMPLETED')
    const notCancelable = await fetch(`${base}/tasks/${task.id}:cancel`, { method: 'POST', headers: V1 })
    expect(notCancelable.status).toBe(400)
    expect(await notCancelable.json()).toMatchObject({
      error: { details: [{ reason: 'TASK_NOT_CANCELABLE' }] },
    })

    const badJson = await fetch(`${base}/message:send`, { method: 'POST', headers: V1, body: '{"message":' })
    expect(badJson.status).toBe(400)
    const unknownAgent = await fetch(`${fixture.url}/a2a/nobody/tasks/x`, { headers: V1 })
    expect(unknownAgent.status).toBe(404)
    expect(await unknownAgent.json()).toMatchObject({ error: { details: [{ reason: 'NO_ROUTE' }] } })

    await adminCall(fixture.url, 'POST', '/api/admin/policies', {
      id: 'no-echo',
      effect: 'deny',
      actions: ['request'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'echo' },
      priority: 10,
    })
    const denied = await fetch(`${base}/message:send`, {
      method: 'POST',
      headers: V1,
      body: JSON.stringify({ message: { messageId: 'm-2', role: 'ROLE_USER', parts: [{ text: 'x' }] } }),
    })
    expect(denied.status).toBe(403)
    const a2aRows = (await fixture.server?.audit?.query({ kind: 'a2a', limit: 50 }))?.events ?? []
    expect(a2aRows.map((row) => `${row.outcome} ${row.detail}`)).toEqual(
      expect.arrayContaining([
        'error get http_404',
        'ok message',
        'error cancel http_400',
        'denied message policy_denied',
      ]),
    )
    expect(await denied.json()).toMatchObject({
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        details: [{ reason: 'POLICY_DENIED', metadata: { rule: 'no-echo' } }],
      },
    })
  })
})
