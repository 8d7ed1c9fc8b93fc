import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from '../support/admin-api.js'
import { PollingTestClient } from '../support/polling-test-client.js'
import { SdkFixture, waitUntil } from '../support/sdk-agents.js'
import { TestClient } from '../support/test-client.js'
import { rawRpc } from './a2a-clients.js'

const DENY_SECRETS = {
  id: 'deny-secrets',
  effect: 'deny',
  actions: ['request'],
  subject: { kind: 'role', pattern: 'client' },
  target: { kind: 'capability', pattern: 'secret.*' },
  priority: 10,
}

describe('one access decision for every entry path', () => {
  const fixture = new SdkFixture()
  const closers: Array<() => Promise<unknown> | unknown> = []

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await fixture.dispose()
  })

  it('refuses the same request by the same deny rule over WebSocket, A2A SendMessage and long-polling, naming the rule and auditing each', async () => {
    const server = await fixture.start()
    expect((await adminCall(fixture.url, 'POST', '/api/admin/policies', DENY_SECRETS)).status).toBe(201)
    const vault = fixture.agent({ agentId: 'vault', capabilities: ['secret.files'] })
    let asked = 0
    vault.handle(() => {
      asked += 1
      return 'the secret'
    })
    await vault.connect()

    const socket = await TestClient.connect(fixture.wsUrl, { clientId: 'ws-caller' })
    closers.push(() => socket.close())
    const overWebSocket = await socket.request({ type: 'request', target: 'vault', data: 'open' })
    expect(overWebSocket).toMatchObject({
      type: 'error',
      code: 'policy_denied',
      details: { rule: 'deny-secrets' },
    })

    const overA2a = await rawRpc(
      fixture.url,
      'vault',
      {
        jsonrpc: '2.0',
        id: 'a2a-1',
        method: 'SendMessage',
        params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'open' }] } },
      },
      { 'A2A-Version': '1.0' },
    )
    expect(overA2a.body).toMatchObject({
      id: 'a2a-1',
      error: {
        code: -32040,
        data: [
          {
            reason: 'POLICY_DENIED',
            domain: 'parley',
            metadata: { code: 'policy_denied', rule: 'deny-secrets' },
          },
        ],
      },
    })
    expect((overA2a.body.error as { message: string }).message).toContain('policy rule deny-secrets')

    const polling = await PollingTestClient.open(fixture.url)
    closers.push(() => polling.close())
    expect(await polling.hello({ clientId: 'poll-caller' })).toMatchObject({ type: 'welcome' })
    const overPolling = await polling.request({ type: 'request', target: 'vault', data: 'open' })
    expect(overPolling).toMatchObject({
      type: 'error',
      code: 'policy_denied',
      details: { rule: 'deny-secrets' },
    })

    expect(asked).toBe(0)
    const denials = async () =>
      ((await server.audit?.query({ kind: 'request', limit: 50 }))?.events ?? []).filter(
        (row) => row.outcome === 'denied',
      )
    await waitUntil(async () => (await denials()).length >= 3, 10_000, 'three denied request rows')
    const rows = await denials()
    expect(rows).toHaveLength(3)
    for (const row of rows)
      expect(row).toMatchObject({ target: 'vault', detail: 'policy_denied rule=deny-secrets' })
    expect(rows.map((row) => row.clientId).sort()).toEqual(['a2a:anonymous', 'poll-caller', 'ws-caller'])
    // The A2A call's own row says what the caller asked and that it was denied.
    const a2aRows = (await server.audit?.query({ kind: 'a2a', limit: 10 }))?.events ?? []
    expect(a2aRows).toEqual([
      expect.objectContaining({ outcome: 'denied', target: 'vault', detail: 'message policy_denied' }),
    ])
  })

  it('limits the tasks one principal runs at once (agents.maxInFlightPerConnection) with a typed rate_limited refusal', async () => {
    await fixture.start({ agents: { maxInFlightPerConnection: 1 } })
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let started: () => void = () => {}
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve
    })
    const slow = fixture.agent({ agentId: 'slow', capabilities: ['slow'] })
    slow.handle(async (data) => {
      started()
      await gate
      return data
    })
    await slow.connect()
    const send = (id: string) =>
      rawRpc(
        fixture.url,
        'slow',
        {
          jsonrpc: '2.0',
          id,
          method: 'SendMessage',
          params: { message: { messageId: id, role: 'ROLE_USER', parts: [{ text: id }] } },
        },
        { 'A2A-Version': '1.0' },
      )

    const first = send('first')
    await handlerStarted
    const second = await send('second')
    expect(second.body).toMatchObject({
      id: 'second',
      error: { code: -32043, data: [{ metadata: { code: 'rate_limited', retryAfterMs: '1000' } }] },
    })
    release()
    expect((await first).body).toMatchObject({
      result: { task: { status: { state: 'TASK_STATE_COMPLETED' } } },
    })
    expect((await send('third')).body).toMatchObject({
      result: { task: { status: { state: 'TASK_STATE_COMPLETED' } } },
    })
  })
})
