import { type Message, StreamResponse } from '@a2a-js/sdk'
import type { Client } from '@a2a-js/sdk/client'
import { DeadLetterPage } from '@parley/protocol'
import { createMemoryDeliveryBackend, createMemoryTaskStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { type GatewayConfigInput, parseConfig } from '../../src/config.js'
import { deliveryBackendOptions } from '../../src/delivery/open-delivery-backend.js'
import { admin } from '../support/delivery-helpers.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway } from '../support/test-gateway.js'
import { a2aClient, leftWorking, patientAgent, rawRpc, sendRequest, userText } from './a2a-clients.js'
import { notificationSummary, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js'

/** A test receiver listens on 127.0.0.1 over http: the operator settings that allow it, and quick retries. */
const LOCAL_WEBHOOKS: GatewayConfigInput = {
  a2a: { pushAllowInsecureUrls: true, pushAllowPrivateAddresses: true },
  delivery: { retryDelay: 0.01, retryBackoff: 1, maxRetries: 3 },
}

const TOKEN = 'notification-token-6f1c2b'
const CREDENTIALS = 'webhook-credential-9a8b7c'

function pushConfig(url: string) {
  return {
    tenant: '',
    id: '',
    taskId: '',
    url,
    token: TOKEN,
    authentication: { scheme: 'Bearer', credentials: CREDENTIALS },
  }
}

function withPush(message: Message, url: string) {
  return {
    ...sendRequest(message),
    configuration: {
      acceptedOutputModes: [],
      taskPushNotificationConfig: pushConfig(url),
      returnImmediately: false,
    },
  }
}

/** Streams `count` chunks through the SDK client with a push config; the events the stream showed, in short. */
async function streamWithPush(
  client: Client,
  url: string,
  text: string,
): Promise<{ taskId: string; seen: string[] }> {
  const seen: string[] = []
  let taskId = ''
  for await (const event of client.sendMessageStream(withPush(userText(text), url))) {
    seen.push(notificationSummary(StreamResponse.toJSON(event) as Record<string, unknown>))
    const payload = event.payload
    if (payload?.$case === 'task') taskId = payload.value.id
  }
  return { taskId, seen }
}

const done = (receiver: WebhookReceiver) => () =>
  receiver.accepted().some((item) => notificationSummary(item.body) === 'status COMPLETED')

describe('A2A push notifications', () => {
  const fixture = new SdkFixture()
  const receivers: WebhookReceiver[] = []

  afterEach(async () => {
    await fixture.dispose()
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
  })

  async function receiver(answer?: (n: number) => number) {
    const started = await startWebhookReceiver(answer)
    receivers.push(started)
    return started
  }

  async function writer(chunks: number) {
    const agent = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    agent.handleStream(async (data, sink) => {
      for (let index = 1; index <= chunks; index += 1) await sink.write(`${String(data)}-${index}`)
    })
    await agent.connect()
  }

  it('POSTs every update of a streamed task to the webhook in order, with its token and authentication', async () => {
    const server = await fixture.start(LOCAL_WEBHOOKS)
    await writer(12)
    const hook = await receiver()
    const client = await a2aClient(fixture.url, 'writer')
    expect((await client.getAgentCard()).capabilities?.pushNotifications).toBe(true)

    const { taskId, seen } = await streamWithPush(client, hook.url, 'w')
    expect(seen).toEqual([
      'task WORKING',
      ...Array.from({ length: 12 }, (_, index) => `chunk "w-${index + 1}"`),
      'status COMPLETED',
    ])
    await expect.poll(done(hook), { timeout: 10_000 }).toBe(true)
    // Exactly the stream's events, in the stream's order: every one accepted at its first attempt.
    expect(hook.received.map((item) => notificationSummary(item.body))).toEqual(seen)
    for (const item of hook.received) {
      expect(item.headers['content-type']).toBe('application/a2a+json')
      expect(item.headers['x-a2a-notification-token']).toBe(TOKEN)
      expect(item.headers.authorization).toBe(`Bearer ${CREDENTIALS}`)
    }
    expect(JSON.stringify(hook.received[1]?.body)).toContain(taskId)

    // Each attempt is audited (kind a2a, push, the task as correlation id), never with a secret. The gateway
    // writes an attempt's row once the webhook's answer is back, which may come after the receiver counted it.
    const auditRows = async () => {
      await server.audit?.flush()
      return (await server.audit?.query({ kind: 'a2a', correlationId: taskId, limit: 200 }))?.events ?? []
    }
    const pushRows = async () => (await auditRows()).filter((row) => row.detail?.startsWith('push '))
    await expect.poll(async () => (await pushRows()).length, { timeout: 10_000 }).toBe(seen.length)
    const rows = await auditRows()
    const pushes = await pushRows()
    expect(pushes).toHaveLength(seen.length)
    expect(
      pushes.every(
        (row) =>
          row.outcome === 'ok' && /attempt 1: HTTP 200 from http:\/\/127\.0\.0\.1/.test(row.detail ?? ''),
      ),
    ).toBe(true)
    expect(JSON.stringify(rows)).not.toMatch(new RegExp(`${TOKEN}|${CREDENTIALS}`))
  })

  it.each([
    ['memory', {}],
    // Embedded PGlite: the webhook deliveries and push configs in Postgres tables.
    ['postgres', { delivery: { ...LOCAL_WEBHOOKS.delivery, storeBackend: 'postgres' as const } }],
  ])(
    'still gets every update in order after answering 500 twice, on the %s store backend (at least once)',
    async (_backend, extra) => {
      const server = await fixture.start({ ...LOCAL_WEBHOOKS, ...extra })
      await writer(6)
      const hook = await receiver((n) => (n <= 2 ? 500 : 200))
      const client = await a2aClient(fixture.url, 'writer')

      const { taskId, seen } = await streamWithPush(client, hook.url, 'r')
      await expect.poll(done(hook), { timeout: 10_000 }).toBe(true)
      // At-least-once: the first update came three times (500, 500, 200); every accepted update is there once,
      // in order. A duplicate would only come from a 2xx answer that was lost, which does not happen here.
      expect(hook.received.slice(0, 3).map((item) => [notificationSummary(item.body), item.status])).toEqual([
        ['task WORKING', 500],
        ['task WORKING', 500],
        ['task WORKING', 200],
      ])
      expect(hook.accepted().map((item) => notificationSummary(item.body))).toEqual(seen)
      expect(hook.received).toHaveLength(seen.length + 2)

      await server.audit?.flush()
      const rows =
        (await server.audit?.query({ kind: 'a2a', correlationId: taskId, limit: 200 }))?.events ?? []
      const failed = rows.filter((row) => row.detail?.startsWith('push ') && row.outcome === 'error')
      expect(failed.map((row) => row.detail?.replace(/^push \S+ /, ''))).toEqual([
        expect.stringMatching(/^attempt 2: HTTP 500/),
        expect.stringMatching(/^attempt 1: HTTP 500/),
      ])
    },
    // Embedded PGlite migrates its database first: slow on a busy machine.
    60_000,
  )

  it('pushes a canceled task once: the cancel and the task each see the CANCELED event, it is queued once', async () => {
    await fixture.start(LOCAL_WEBHOOKS)
    const { handlerStarted } = await patientAgent(fixture, 'slow', 'slow')
    const hook = await receiver()
    const client = await a2aClient(fixture.url, 'slow')
    const submitted = await client.sendMessage({
      ...withPush(userText('take your time'), hook.url),
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: pushConfig(hook.url),
        returnImmediately: true,
      },
    })
    if (!('id' in submitted)) throw new Error('expected a task')
    await handlerStarted
    await client.cancelTask({ tenant: '', id: submitted.id, metadata: {} })
    const canceled = () =>
      hook.accepted().some((item) => notificationSummary(item.body) === 'status CANCELED')
    await expect.poll(canceled, { timeout: 10_000 }).toBe(true)
    // A later duplicate would come from the task's own event loop, which settles when the agent's handler ends.
    await expect.poll(() => hook.accepted().length, { timeout: 10_000 }).toBe(2)
    expect(hook.accepted().map((item) => notificationSummary(item.body))).toEqual([
      'task WORKING',
      'status CANCELED',
    ])
  })

  it('sends a config registered over v0.3 the v0.3 body: the task as it is after each update', async () => {
    await fixture.start(LOCAL_WEBHOOKS)
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    await echo.connect()
    const hook = await receiver()
    const sent = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 1,
      method: 'message/send',
      params: {
        message: { kind: 'message', messageId: 'm-1', role: 'user', parts: [{ kind: 'text', text: 'hi' }] },
        configuration: { pushNotificationConfig: { url: hook.url, token: TOKEN } },
      },
    })
    // A v0.3 send without `blocking: true` answers at once, with the working task.
    expect(sent.body.result).toMatchObject({ kind: 'task' })
    const completed = () =>
      hook
        .accepted()
        .some((item) => (item.body.status as { state?: string } | undefined)?.state === 'completed')
    await expect.poll(completed, { timeout: 10_000 }).toBe(true)
    const bodies = hook.accepted().map((item) => item.body)
    expect(
      bodies.every((body) => body.kind === 'task' && body.id === (sent.body.result as { id: string }).id),
    ).toBe(true)
    expect(bodies.map((body) => (body.status as { state: string }).state)).toEqual([
      'working',
      'working',
      'completed',
    ])
    expect(bodies.at(-1)?.artifacts).toMatchObject([{ parts: [{ kind: 'text', text: 'echo: hi' }] }])
    expect(hook.accepted()[0]?.headers['x-a2a-notification-token']).toBe(TOKEN)
    expect(hook.accepted()[0]?.headers['content-type']).toMatch(/^application\/json/)
  })

  it('pushes the FAILED status the orphan sweep gives a task that a dead node left working', async () => {
    const taskStore = createMemoryTaskStore()
    await leftWorking(taskStore, 'left-behind', 'node-dead')
    const hook = await receiver()
    await taskStore.setPushConfig(
      'left-behind',
      { owner: 'someone' },
      { id: 'hook', url: hook.url, token: TOKEN, protocolVersion: '1.0', now: Date.now() - 60_000 },
    )
    await fixture.start(
      { ...LOCAL_WEBHOOKS, a2a: { ...LOCAL_WEBHOOKS.a2a, orphanSweepInterval: 0.2 } },
      { taskStore },
    )
    await expect.poll(() => hook.accepted().length, { timeout: 20_000 }).toBe(1)
    const [notification] = hook.accepted()
    expect(notificationSummary(notification?.body ?? {})).toBe('status FAILED')
    expect(JSON.stringify(notification?.body)).toContain('node-dead that ran this task is gone')
    expect(notification?.headers['x-a2a-notification-token']).toBe(TOKEN)
  })

  it('resumes the webhook deliveries a stopped gateway left queued, in order, on the gateway started after it', async () => {
    const deliveryBackend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    const taskStore = createMemoryTaskStore()
    // A refused notification waits an hour for its retry: it is still queued when the gateway stops.
    const hourlyRetries = {
      ...LOCAL_WEBHOOKS,
      delivery: { retryDelay: 3_600, retryBackoff: 1, maxRetries: 3 },
    }
    try {
      await fixture.start(hourlyRetries, { deliveryBackend, taskStore })
      await writer(5)
      const hook = await receiver(() => 500)
      const { seen } = await streamWithPush(await a2aClient(fixture.url, 'writer'), hook.url, 's')
      await expect.poll(() => hook.received.length, { timeout: 10_000 }).toBe(1)
      await fixture.dispose()
      const [recipient = ''] = await deliveryBackend.deliveries.liveRecipients('webhook/', 10)
      expect(await deliveryBackend.deliveries.queued(recipient)).toBe(seen.length)

      hook.answerWith(() => 200)
      const next = await startTestGateway(hourlyRetries, { deliveryBackend, taskStore })
      try {
        await expect.poll(() => hook.accepted().length, { timeout: 10_000 }).toBe(seen.length)
        expect(hook.accepted().map((item) => notificationSummary(item.body))).toEqual(seen)
        expect(await deliveryBackend.deliveries.queued(recipient)).toBe(0)
      } finally {
        await next.dispose()
      }
    } finally {
      await deliveryBackend.close()
    }
  })

  it('dead-letters the updates a webhook keeps refusing, visible and requeueable through the admin API', async () => {
    const server = await fixture.start({
      ...LOCAL_WEBHOOKS,
      delivery: { ...LOCAL_WEBHOOKS.delivery, maxRetries: 2 },
    })
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    await echo.connect()
    const hook = await receiver(() => 503)
    const client = await a2aClient(fixture.url, 'echo')
    const sent = await client.sendMessage(withPush(userText('hi'), hook.url))
    if (!('id' in sent)) throw new Error('expected a task')

    // task WORKING, the answer artifact, status COMPLETED: each tried 1 + maxRetries times, then dead.
    const dead = async () =>
      DeadLetterPage.parse((await admin(server, '/api/admin/dlq?kind=webhook')).body).deadLetters
    await expect.poll(async () => (await dead()).length, { timeout: 10_000 }).toBe(3)
    expect(hook.received).toHaveLength(9)
    const letters = await dead()
    const [configId] = (letters[0]?.recipient ?? '').split('/').slice(2)
    for (const letter of letters) {
      expect(letter).toMatchObject({
        kind: 'webhook',
        recipient: `webhook/${sent.id}/${configId}`,
        source: 'a2a:echo',
        attempts: 3,
        reason: 'max_retries',
        lastError: `HTTP 503 from ${hook.origin}`,
      })
    }
    expect(JSON.stringify(letters)).not.toMatch(new RegExp(`${TOKEN}|${CREDENTIALS}|/hooks/a2a`))

    // The receiver is back: a requeued dead letter is POSTed again.
    hook.answerWith(() => 200)
    const oldest = letters.at(-1)
    const requeued = await admin(server, `/api/admin/dlq/${oldest?.id}/requeue`, { method: 'POST' })
    expect(requeued.status).toBe(200)
    await expect.poll(() => hook.accepted().length, { timeout: 10_000 }).toBe(1)
    expect(notificationSummary(hook.accepted()[0]?.body ?? {})).toBe('task WORKING')
  })

  it('refuses webhook URLs that are not https or point at loopback, private or link-local addresses by default', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    let calls = 0
    echo.handle((data) => {
      calls += 1
      return data
    })
    await echo.connect()
    const client = await a2aClient(fixture.url, 'echo')
    const sent = await client.sendMessage(sendRequest(userText('a task')))
    if (!('id' in sent)) throw new Error('expected a task')

    for (const url of [
      'http://127.0.0.1/hook',
      'https://10.0.0.1/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/',
      'https://2130706433/hook',
      'https://[::ffff:127.0.0.1]/hook',
    ]) {
      const refused = await client
        .createTaskPushNotificationConfig({ ...pushConfig(url), taskId: sent.id })
        .catch((error: unknown) => error)
      expect(refused, url).toMatchObject({ name: 'RequestMalformedError' })
      expect(String((refused as Error).message), url).toMatch(/push notification URL is refused/)
    }
    // Inline in SendMessage too: refused before the agent gets the message.
    await expect(
      client.sendMessage(withPush(userText('x'), 'https://192.168.1.10/hook')),
    ).rejects.toMatchObject({
      name: 'RequestMalformedError',
    })
    expect(calls).toBe(1)
    // The raw v0.3 method and the HTTP+JSON binding give the same typed error.
    const legacy = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 7,
      method: 'tasks/pushNotificationConfig/set',
      params: { taskId: sent.id, pushNotificationConfig: { url: 'https://[fe80::1]/hook' } },
    })
    expect(legacy.body.error).toMatchObject({ code: -32602 })
    const rest = await fetch(`${fixture.url}/a2a/echo/tasks/${sent.id}/pushNotificationConfigs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
      body: JSON.stringify({ url: 'https://[fd00::1]/hook' }),
    })
    expect(rest.status).toBe(400)
    expect(
      await client.listTaskPushNotificationConfig({
        tenant: '',
        taskId: sent.id,
        pageSize: 0,
        pageToken: '',
      }),
    ).toMatchObject({
      configs: [],
    })
  })

  it('creates, reads, lists and deletes push configs on every binding, never answering their secrets', async () => {
    const server = await fixture.start(LOCAL_WEBHOOKS)
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    const client = await a2aClient(fixture.url, 'echo')
    const sent = await client.sendMessage(sendRequest(userText('a task')))
    if (!('id' in sent)) throw new Error('expected a task')
    const hook = 'http://127.0.0.1:9/hooks/one'

    const created = await client.createTaskPushNotificationConfig({
      ...pushConfig(hook),
      taskId: sent.id,
      id: 'one',
    })
    expect(created).toMatchObject({ id: 'one', taskId: sent.id, url: hook, token: '' })
    expect(created.authentication).toMatchObject({ scheme: 'Bearer', credentials: '' })
    const got = await client.getTaskPushNotificationConfig({ tenant: '', taskId: sent.id, id: 'one' })
    expect(got).toMatchObject({ id: 'one', url: hook, token: '' })

    // v0.3 (no A2A-Version header): set with a generated id, get, list.
    const set = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tasks/pushNotificationConfig/set',
      params: { taskId: sent.id, pushNotificationConfig: { url: `${hook}/legacy`, token: TOKEN } },
    })
    const legacyId = (set.body.result as { pushNotificationConfig: { id: string; token?: string } })
      .pushNotificationConfig
    expect(legacyId.id).toMatch(/^pnc_/)
    expect(legacyId.token ?? '').toBe('')
    const legacyList = await rawRpc(fixture.url, 'echo', {
      jsonrpc: '2.0',
      id: 2,
      method: 'tasks/pushNotificationConfig/list',
      params: { id: sent.id },
    })
    expect((legacyList.body.result as unknown[]).length).toBe(2)

    // HTTP+JSON: create (201), list, get, delete (204).
    const base = `${fixture.url}/a2a/echo/tasks/${sent.id}/pushNotificationConfigs`
    const headers = { 'content-type': 'application/json', 'a2a-version': '1.0' }
    const posted = await fetch(base, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'rest', url: `${hook}/rest`, token: TOKEN }),
    })
    expect(posted.status).toBe(201)
    expect(JSON.stringify(await posted.json())).not.toContain(TOKEN)
    const listed = (await (await fetch(base, { headers })).json()) as { configs: { id: string }[] }
    expect(listed.configs.map((config) => config.id)).toEqual(['one', legacyId.id, 'rest'])
    expect(JSON.stringify(listed)).not.toMatch(new RegExp(`${TOKEN}|${CREDENTIALS}`))
    expect((await fetch(`${base}/rest`, { headers })).status).toBe(200)
    expect((await fetch(`${base}/rest`, { method: 'DELETE', headers })).status).toBe(204)
    expect((await fetch(`${base}/rest`, { headers })).status).toBe(404)

    await client.deleteTaskPushNotificationConfig({ tenant: '', taskId: sent.id, id: 'one' })
    const left = await client.listTaskPushNotificationConfig({
      tenant: '',
      taskId: sent.id,
      pageSize: 0,
      pageToken: '',
    })
    expect(left.configs.map((config) => config.id)).toEqual([legacyId.id])
    // Each config call is a `push` row with the task as correlation id, on every binding.
    await server.audit?.flush()
    const rows =
      (await server.audit?.query({ kind: 'a2a', correlationId: sent.id, limit: 100 }))?.events ?? []
    expect(rows.filter((row) => row.detail?.startsWith('push')).map((row) => row.detail)).toEqual([
      'push', // SDK list
      'push', // SDK delete
      'push http_404', // REST get after delete
      'push', // REST delete
      'push', // REST get
      'push', // REST list
      'push', // REST create
      'push', // v0.3 list
      'push', // v0.3 set
      'push', // SDK get
      'push', // SDK create
    ])
    // An inline config is checked before its task exists: a token over 4,096 characters is invalid params.
    const oversized = withPush(userText('x'), hook)
    const inline = oversized.configuration.taskPushNotificationConfig
    await expect(
      client.sendMessage({
        ...oversized,
        configuration: {
          ...oversized.configuration,
          taskPushNotificationConfig: { ...inline, token: 'x'.repeat(4_097) },
        },
      }),
    ).rejects.toMatchObject({ name: 'RequestMalformedError', message: expect.stringMatching(/token/) })
    // A task keeps at most 10 configs: the 11th is invalid params.
    for (let index = 2; index <= 10; index += 1) {
      await client.createTaskPushNotificationConfig({ ...pushConfig(hook), taskId: sent.id, id: `c${index}` })
    }
    await expect(
      client.createTaskPushNotificationConfig({ ...pushConfig(hook), taskId: sent.id, id: 'c11' }),
    ).rejects.toMatchObject({ name: 'RequestMalformedError', message: expect.stringMatching(/10 push/) })
    // Another task id (unknown to this caller) is TaskNotFound.
    await expect(
      client.getTaskPushNotificationConfig({ tenant: '', taskId: 'no-such-task', id: 'one' }),
    ).rejects.toMatchObject({ name: 'TaskNotFoundError' })
  })
})
