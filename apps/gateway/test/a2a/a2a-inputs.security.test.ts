import { TaskState } from '@a2a-js/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { seededRandom } from '../support/seeded-random.js'
import { a2aClient, sendRequest, userText } from './a2a-clients.js'

const METHODS = [
  'SendMessage',
  'SendStreamingMessage',
  'GetTask',
  'ListTasks',
  'CancelTask',
  'SubscribeToTask',
  'GetExtendedAgentCard',
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/set',
  'tasks/pushNotificationConfig/get',
  'tasks/pushNotificationConfig/list',
  'tasks/pushNotificationConfig/delete',
  'message/send',
  'message/stream',
  'tasks/get',
  'tasks/cancel',
  'tasks/resubscribe',
  'NoSuchMethod',
  '',
]
const REST_PATHS = [
  ['POST', 'message:send'],
  ['POST', 'message:stream'],
  ['GET', 'tasks'],
  ['GET', 'tasks/no-such-task'],
  ['POST', 'tasks/no-such-task:cancel'],
  ['GET', 'tasks/no-such-task:subscribe'],
  ['POST', 'tasks/no-such-task/pushNotificationConfigs'],
  ['GET', 'tasks/no-such-task/pushNotificationConfigs'],
  ['GET', 'tasks/no-such-task/pushNotificationConfigs/pnc-1'],
  ['DELETE', 'tasks/no-such-task/pushNotificationConfigs/pnc-1'],
] as const

/** A value of a random JSON shape (and sometimes of the right one), to stand in for any field. */
function anyValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 2 ? 6 : 9))
  switch (pick) {
    case 0:
      return null
    case 1:
      return random() > 0.5
    case 2:
      return Math.floor(random() * 2 ** 40) * (random() > 0.5 ? 1 : -1)
    case 3:
      return 'x'.repeat(Math.floor(random() * 40))
    case 4:
      return '\u0000<script>\ud800'
    case 5:
      return random() > 0.5 ? 'ROLE_USER' : 'TASK_STATE_WORKING'
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => anyValue(random, depth + 1))
    case 7:
      return {
        messageId: anyValue(random, depth + 1),
        role: anyValue(random, depth + 1),
        parts: [{ text: anyValue(random, depth + 1) }, { data: anyValue(random, depth + 1) }],
        id: anyValue(random, depth + 1),
      }
    default:
      return {
        message: anyValue(random, depth + 1),
        id: anyValue(random, depth + 1),
        pageSize: anyValue(random, depth + 1),
      }
  }
}

function anyBody(random: () => number): string {
  const shape = random()
  if (shape < 0.1) return '{"jsonrpc": "2.0", "id": 1, "method":'
  if (shape < 0.15) return JSON.stringify(anyValue(random))
  const body: Record<string, unknown> = {
    jsonrpc: random() > 0.1 ? '2.0' : anyValue(random),
    id: random() > 0.1 ? Math.floor(random() * 1000) : anyValue(random),
    method: METHODS[Math.floor(random() * METHODS.length)],
    params: anyValue(random),
  }
  return JSON.stringify(body)
}

describe('generated input on both A2A bindings', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('answers 300 generated JSON-RPC and HTTP+JSON requests with typed errors or results, never a 5xx, and keeps serving', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    echo.handleStream(async (data, sink) => {
      await sink.write(data)
    })
    await echo.connect()
    const random = seededRandom(13)

    for (let index = 0; index < 150; index += 1) {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (random() > 0.5) headers['A2A-Version'] = random() > 0.2 ? '1.0' : '9.9'
      const response = await fetch(`${fixture.url}/a2a/echo`, {
        method: 'POST',
        headers,
        body: anyBody(random),
      })
      expect(response.status, `JSON-RPC request ${index}`).toBeLessThan(500)
      const text = await response.text()
      if (response.headers.get('content-type')?.includes('text/event-stream')) continue
      const answer = JSON.parse(text) as { jsonrpc?: string; result?: unknown; error?: { code?: unknown } }
      expect(answer.jsonrpc).toBe('2.0')
      if (answer.result === undefined) expect(typeof answer.error?.code).toBe('number')
    }

    for (let index = 0; index < 150; index += 1) {
      const [method, path] = REST_PATHS[Math.floor(random() * REST_PATHS.length)] ?? REST_PATHS[0]
      const response = await fetch(`${fixture.url}/a2a/echo/${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'A2A-Version': '1.0' },
        ...(method === 'POST' ? { body: anyBody(random) } : {}),
      })
      expect(response.status, `HTTP+JSON request ${index} (${method} ${path})`).toBeLessThan(500)
      const text = await response.text()
      if (response.status >= 400) {
        const answer = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
        expect(typeof answer.error?.message).toBe('string')
      }
    }

    const client = await a2aClient(fixture.url, 'echo')
    const result = await client.sendMessage(sendRequest(userText('still serving')))
    expect('id' in result && result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
  }, 120_000)
})
