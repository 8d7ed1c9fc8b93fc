import { TaskState } from '@a2a-js/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { a2aClient, sendRequest, userText } from './a2a-clients.js'

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
})
