import { TaskState } from '@a2a-js/sdk'
import { AgentError, AgentUnavailableError } from '@parley/client'
import { A2aAgentInfo, A2aAgentList, AgentList } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type ExternalAgent, startExternalAgent } from '../support/a2a-external-agent.js'
import { adminCall } from '../support/admin-api.js'
import { capturingLogger } from '../support/capturing-logger.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway } from '../support/test-gateway.js'
import { a2aClient, sendRequest, userText } from './a2a-clients.js'

const TOKEN = 'upstream-bearer-token-never-shown-0123'

describe('external A2A agents (an @a2a-js/sdk server registered through the admin API)', () => {
  const fixture = new SdkFixture()
  const externals: ExternalAgent[] = []

  afterEach(async () => {
    await fixture.dispose()
    await Promise.all(externals.splice(0).map((agent) => agent.kill()))
  })

  async function external(options: Parameters<typeof startExternalAgent>[0]): Promise<ExternalAgent> {
    const agent = await startExternalAgent(options)
    externals.push(agent)
    return agent
  }

  async function register(body: unknown): Promise<A2aAgentInfo> {
    const added = await adminCall(fixture.url, 'POST', '/api/admin/a2a/agents', body)
    expect(added.status, JSON.stringify(added.body)).toBe(201)
    return A2aAgentInfo.parse(added.body)
  }

  async function listing(): Promise<A2aAgentInfo[]> {
    const listed = await adminCall(fixture.url, 'GET', '/api/admin/a2a/agents')
    expect(listed.status).toBe(200)
    return A2aAgentList.parse(listed.body).agents
  }

  it('registers the agent by its base URL, names it after its card, and answers AgentCaller.request by capability', async () => {
    await fixture.start()
    const weather = await external({ name: 'Weather Bot', skills: ['echo', 'summarize text'] })
    const added = await register({ urls: [weather.url] })
    expect(added).toMatchObject({
      agentId: 'Weather-Bot',
      name: 'Weather Bot',
      description: 'External agent Weather Bot',
      capabilities: ['echo', 'summarize_text'],
      instances: [{ url: weather.cardUrl, state: 'up', lastError: null }],
      signatureVerified: null,
      credentials: 'none',
    })
    expect(added.instances[0]?.lastFetchAt).not.toBeNull()

    const caller = fixture.caller('weather-fan')
    await caller.connect()
    expect(await caller.request({ capability: 'summarize_text' }, { city: 'Oslo' })).toEqual({
      echoed: { city: 'Oslo' },
      by: 'Weather Bot',
    })
    expect(await caller.request('Weather-Bot', 'plain text')).toEqual({
      echoed: 'plain text',
      by: 'Weather Bot',
    })

    // The agent registry shows it as an A2A agent whose skills are described capabilities.
    const agents = AgentList.parse((await adminCall(fixture.url, 'GET', '/api/admin/agents')).body).agents
    const instance = agents.find((agent) => agent.agentId === 'Weather-Bot')?.instances[0]
    expect(instance).toMatchObject({
      kind: 'a2a',
      url: weather.cardUrl,
      principal: 'a2a:Weather-Bot',
      capabilities: ['echo', 'summarize_text'],
      capabilityInfo: {
        summarize_text: {
          title: 'Skill summarize text',
          description: 'Does summarize text',
          tags: ['external'],
          examples: ['please summarize text'],
          inputModes: ['text/plain'],
          outputModes: ['application/json'],
        },
      },
    })
  })

  it('streams the external task’s artifact updates as chunks, in order, and maps a failed task to the agent’s error', async () => {
    await fixture.start()
    const writer = await external({ name: 'writer' })
    await register({ agentId: 'writer', urls: [writer.cardUrl] })
    const caller = fixture.caller('reader')
    await caller.connect()
    const chunks: unknown[] = []
    for await (const chunk of caller.stream({ capability: 'echo' }, 'stream:6')) chunks.push(chunk)
    expect(chunks).toEqual(['chunk 1', 'chunk 2', 'chunk 3', 'chunk 4', 'chunk 5', 'chunk 6'])

    const failed = await caller.request('writer', 'fail').catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(AgentError)
    expect((failed as AgentError).agentCode).toBe('agent_failed')
    expect((failed as AgentError).agentMessage).toBe('the external agent could not do it')
  })

  it('cancels the external task when the caller aborts its stream', async () => {
    await fixture.start()
    const slow = await external({ name: 'slow' })
    await register({ agentId: 'slow', urls: [slow.url] })
    const caller = fixture.caller('impatient')
    await caller.connect()
    const controller = new AbortController()
    const reading = (async () => {
      for await (const _chunk of caller.stream('slow', 'hang', { signal: controller.signal })) {
        // 'hang' sends nothing.
      }
    })().catch((error: unknown) => error)
    await slow.hanging()
    controller.abort()
    await reading
    await expect.poll(() => slow.methods, { timeout: 10_000 }).toEqual(['SendStreamingMessage', 'CancelTask'])
  })

  it('answers an A2A caller of the gateway (the SDK client, through the agent’s card on the gateway) from the external agent', async () => {
    await fixture.start()
    const upstream = await external({ name: 'relay' })
    await register({ agentId: 'relay', urls: [upstream.url] })
    const client = await a2aClient(fixture.url, 'relay')
    const card = await client.getAgentCard()
    expect(card.skills.map((skill) => skill.id)).toEqual(['echo', 'summarize_text'])
    const result = await client.sendMessage(sendRequest(userText('via the gateway')))
    if (!('id' in result)) throw new Error('expected a task')
    expect(TaskState[result.status?.state ?? 0]).toBe('TASK_STATE_COMPLETED')
    expect(result.artifacts[0]?.parts[0]?.content).toEqual({
      $case: 'data',
      value: { echoed: 'via the gateway', by: 'relay' },
    })
    expect(upstream.calls).toBe(1)
  })

  it('answers AgentUnavailableError when the agent dies with a request in flight and for the next one, and lists the instance down with its error', async () => {
    await fixture.start()
    const fragile = await external({ name: 'fragile' })
    await register({ agentId: 'fragile', urls: [fragile.url] })
    const caller = fixture.caller('patient')
    await caller.connect()
    expect(await caller.request('fragile', 'hello')).toEqual({ echoed: 'hello', by: 'fragile' })

    const inFlight = caller
      .request({ capability: 'echo' }, 'hang', { timeoutMs: 20_000 })
      .catch((error: unknown) => error)
    await fragile.hanging()
    await fragile.kill()
    expect(await inFlight).toBeInstanceOf(AgentUnavailableError)
    expect(await caller.request('fragile', 'again').catch((error: unknown) => error)).toBeInstanceOf(
      AgentUnavailableError,
    )

    const [listed] = await listing()
    expect(listed?.instances).toEqual([
      {
        url: fragile.cardUrl,
        state: 'down',
        lastFetchAt: expect.any(String),
        lastError: expect.stringMatching(/unreachable|ECONNREFUSED|terminated|other side closed/i),
      },
    ])
    // A refresh while it is still dead keeps it down, with the card fetch's error.
    const refreshed = await adminCall(fixture.url, 'POST', '/api/admin/a2a/agents/fragile/refresh')
    expect(refreshed.status).toBe(200)
    expect(A2aAgentInfo.parse(refreshed.body).instances[0]).toMatchObject({
      state: 'down',
      lastError: expect.stringContaining(`the agent card at ${fragile.cardUrl} is unreachable`),
    })
  })

  it('brings a down instance back on the next scheduled card fetch (a2a.externalRefreshInterval)', async () => {
    await fixture.start({ a2a: { externalRefreshInterval: 0.2 } })
    const phoenix = await external({ name: 'phoenix' })
    await register({ agentId: 'phoenix', urls: [phoenix.url] })
    const caller = fixture.caller('waiting')
    await caller.connect()
    await phoenix.kill()
    await expect.poll(async () => (await listing())[0]?.instances[0]?.state, { timeout: 10_000 }).toBe('down')
    expect(await caller.request('phoenix', 'now?').catch((error: unknown) => error)).toBeInstanceOf(
      AgentUnavailableError,
    )
    await phoenix.revive()
    await expect
      .poll(async () => (await listing())[0]?.instances[0], { timeout: 10_000 })
      .toMatchObject({ state: 'up', lastError: null })
    expect(await caller.request('phoenix', 'back')).toEqual({ echoed: 'back', by: 'phoenix' })
  })

  it('fails idempotent requests over to the second instance when the first dies mid-run, with none lost', async () => {
    await fixture.start()
    const first = await external({ name: 'pool' })
    const second = await external({ name: 'pool' })
    const added = await register({ agentId: 'pool', urls: [first.url, second.url] })
    expect(added.instances.map((instance) => instance.state)).toEqual(['up', 'up'])
    const caller = fixture.caller('loop')
    await caller.connect()

    const total = 120
    const answers: unknown[] = new Array(total)
    let next = 0
    let killed: Promise<void> | undefined
    async function lane(): Promise<void> {
      while (next < total) {
        const index = next
        next += 1
        if (index === 40) killed = first.kill()
        answers[index] = await caller.request(
          { capability: 'echo' },
          { index },
          { idempotent: true, timeoutMs: 20_000 },
        )
      }
    }
    await Promise.all(Array.from({ length: 8 }, lane))
    await killed
    expect(answers).toEqual(Array.from({ length: total }, (_, index) => ({ echoed: { index }, by: 'pool' })))
    // Both served before the kill; afterwards only the second did.
    expect(first.calls).toBeGreaterThan(0)
    expect(second.calls).toBeGreaterThan(total / 2)
    const [listed] = await listing()
    expect(listed?.instances.map((instance) => instance.state)).toEqual(['down', 'up'])
  })

  it('presents the stored credentials as the configured header, and never shows or logs them', async () => {
    const captured = capturingLogger()
    fixture.server = await startTestGateway({}, { logger: captured.logger })
    const bearer = await external({ name: 'bearer-agent' })
    const keyed = await external({ name: 'keyed-agent' })
    const addedBearer = await register({
      agentId: 'bearer-agent',
      urls: [bearer.url],
      credentials: { type: 'bearer', token: TOKEN },
    })
    await register({
      agentId: 'keyed-agent',
      urls: [keyed.url],
      credentials: { type: 'header', name: 'X-Api-Key', value: `${TOKEN}-key` },
    })
    const caller = fixture.caller('user')
    await caller.connect()
    await caller.request('bearer-agent', 'hi')
    await caller.request('keyed-agent', 'hi')

    // Card fetch and call both carried it.
    expect(bearer.requests.map((request) => request.headers.authorization)).toEqual(
      bearer.requests.map(() => `Bearer ${TOKEN}`),
    )
    expect(bearer.requests.map((request) => request.path)).toEqual(
      expect.arrayContaining(['/.well-known/agent-card.json', '/rpc']),
    )
    expect(keyed.requests.every((request) => request.headers['x-api-key'] === `${TOKEN}-key`)).toBe(true)

    expect(addedBearer.credentials).toBe('bearer')
    const everything = JSON.stringify([
      addedBearer,
      await listing(),
      (await adminCall(fixture.url, 'GET', '/api/admin/agents')).body,
      (await adminCall(fixture.url, 'GET', '/api/admin/audit?limit=500')).body,
    ])
    expect(everything).toContain('keyed-agent')
    expect(everything).not.toContain(TOKEN)
    expect(captured.text()).toContain('keyed-agent')
    expect(captured.text()).not.toContain(TOKEN)
  })

  it('shows signatureVerified true for a card signed with a key at its origin, and refuses a card changed after signing', async () => {
    await fixture.start()
    const signed = await external({ name: 'signed', signature: 'valid' })
    const tampered = await external({ name: 'tampered', signature: 'tampered' })
    expect(await register({ agentId: 'signed', urls: [signed.url] })).toMatchObject({
      signatureVerified: true,
      instances: [{ state: 'up' }],
    })
    expect(await register({ agentId: 'tampered', urls: [tampered.url] })).toMatchObject({
      signatureVerified: false,
      capabilities: [],
      instances: [{ state: 'down', lastError: expect.stringContaining('signature that does not verify') }],
    })
    const caller = fixture.caller('careful')
    await caller.connect()
    expect(await caller.request('signed', 'ok')).toEqual({ echoed: 'ok', by: 'signed' })
    expect(tampered.calls).toBe(0)
  })

  it('keeps an agent whose card cannot be fetched (down, with the error), refuses a taken id, and removes it', async () => {
    await fixture.start()
    const gone = await external({ name: 'gone' })
    await gone.kill()
    const added = await register({ agentId: 'later', urls: [gone.url] })
    expect(added.instances).toEqual([
      {
        url: gone.cardUrl,
        state: 'down',
        lastFetchAt: null,
        lastError: expect.stringContaining('unreachable'),
      },
    ])
    const again = await adminCall(fixture.url, 'POST', '/api/admin/a2a/agents', {
      agentId: 'later',
      urls: [gone.url],
    })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ error: { code: 'conflict' } })
    for (const body of [
      { urls: [] },
      { agentId: 'x', urls: ['ftp://example.com/'] },
      { agentId: 'bad id', urls: [gone.url] },
      { agentId: 'x', urls: ['http://user:pw@127.0.0.1:1/'] },
      { agentId: 'x', urls: [gone.url], credentials: { type: 'bearer' } },
      { urls: [gone.url] },
    ]) {
      const refused = await adminCall(fixture.url, 'POST', '/api/admin/a2a/agents', body)
      expect(refused.status, JSON.stringify(body)).toBe(400)
      expect(refused.body).toMatchObject({ error: { code: 'bad_request' } })
    }
    expect((await adminCall(fixture.url, 'DELETE', '/api/admin/a2a/agents/later')).status).toBe(204)
    expect((await adminCall(fixture.url, 'DELETE', '/api/admin/a2a/agents/later')).status).toBe(404)
    expect((await adminCall(fixture.url, 'POST', '/api/admin/a2a/agents/later/refresh')).status).toBe(404)
    expect(await listing()).toEqual([])

    // Registering and removing are audited as admin actions (naming the agent, never credentials).
    const audit = fixture.server?.audit
    await audit?.flush()
    const details = ((await audit?.query({ limit: 200 }))?.events ?? [])
      .filter((event) => event.kind === 'admin')
      .map((event) => `${event.outcome} ${event.detail}`)
    expect(details).toEqual(
      expect.arrayContaining([
        `ok a2a agent add later ${gone.url} credentials=none (201)`,
        `error a2a agent add later ${gone.url} (409)`,
        'ok a2a agent remove later (204)',
      ]),
    )
    expect(details.join('\n')).not.toContain('user:pw')
  })
})
