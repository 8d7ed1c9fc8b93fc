import { AgentMap, CapturedExchangePage } from '@parley/protocol'
import { type CaptureStore, createMemoryCaptureStore, createMemoryPolicyStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { SdkFixture } from './support/sdk-agents.js'

const SECRET = 's3cret-hunter2'

const fixture = new SdkFixture()
afterEach(() => fixture.dispose())

async function exchanges(a: string, b: string): Promise<CapturedExchangePage> {
  const answer = await adminCall(fixture.url, 'GET', `/api/admin/conversations/exchanges?a=${a}&b=${b}`)
  expect(answer.status).toBe(200)
  return CapturedExchangePage.parse(answer.body)
}

/** A `worker` agent answering with a token of its own, a `planner` agent calling it once with a password. */
async function plannerCallsWorker(): Promise<void> {
  const worker = fixture.agent({ agentId: 'worker', clientId: 'worker-1', capabilities: ['lookup'] })
  worker.handle(async (data) => ({ answer: 42, token: SECRET, echo: data }))
  await worker.connect()
  const planner = fixture.agent({ agentId: 'planner', clientId: 'planner-1', capabilities: [] })
  await planner.connect()
  await planner.request('worker', { query: 'weather', password: SECRET, user: { apiKey: SECRET } })
}

/** Another pair: `callerId` asks the agent `other` once. */
async function anotherPairCalls(callerId: string): Promise<void> {
  const other = fixture.agent({ agentId: 'other', capabilities: ['x'] })
  other.handle(async () => 'ok')
  await other.connect()
  const caller = fixture.agent({ agentId: callerId, capabilities: [] })
  await caller.connect()
  await caller.request('other', { a: 1 })
}

/** Every stored step's text: what a database dump would show. */
async function storedText(store: CaptureStore): Promise<string> {
  const pages = await store.exchanges({ a: ['planner', 'planner-1'], b: ['worker', 'worker-1'], limit: 100 })
  return JSON.stringify(pages)
}

describe('payload capture (conversation replay)', () => {
  it('captures nothing by default: no step is stored and the view says capture is off', async () => {
    const captureStore = createMemoryCaptureStore()
    await fixture.start({}, { captureStore })
    await plannerCallsWorker()
    const page = await exchanges('planner', 'worker')
    expect(page).toEqual({ capture: { enabled: false }, exchanges: [], nextBefore: null })
    expect(await storedText(captureStore)).toBe('[]')
  })

  it('captures the exchanges of an agent named in capture.agents: request then reply, timed, with the trace id and the instance', async () => {
    const captureStore = createMemoryCaptureStore()
    await fixture.start({ capture: { agents: ['work*'] } }, { captureStore })
    await plannerCallsWorker()
    const page = await exchanges('planner', 'worker')
    expect(page.capture.enabled).toBe(true)
    expect(page.exchanges).toHaveLength(1)
    const [exchange] = page.exchanges
    expect(exchange).toMatchObject({ caller: 'planner', agentId: 'worker' })
    expect(exchange?.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(exchange?.steps.map((step) => step.step)).toEqual(['request', 'reply'])
    const [request, reply] = exchange?.steps ?? []
    expect(request?.payload).toMatchObject({ query: 'weather', password: SECRET })
    expect(reply?.payload).toMatchObject({ answer: 42 })
    expect(reply?.offsetMs).toBeGreaterThanOrEqual(request?.offsetMs ?? 0)
    expect(reply?.instanceId).toMatch(/.+/)
    expect(reply?.traceId).toBe(exchange?.traceId)
    // Another pair of agents is not captured.
    await anotherPairCalls('third')
    expect((await exchanges('third', 'other')).exchanges).toEqual([])
  })

  it('redacts the configured fields before they are stored: no stored step holds the secret, the view names the redacted paths', async () => {
    const captureStore = createMemoryCaptureStore()
    await fixture.start(
      { capture: { agents: ['worker'], redact: ['$..password', '$..apiKey', '$.token'] } },
      { captureStore },
    )
    await plannerCallsWorker()
    // The admin read flushes the capture buffer, then the store is read as a database dump would be.
    const [exchange] = (await exchanges('planner', 'worker')).exchanges
    const stored = await storedText(captureStore)
    expect(stored).not.toContain(SECRET)
    expect(stored).toContain('[redacted]')
    const [request, reply] = exchange?.steps ?? []
    expect(request?.payload).toEqual({
      query: 'weather',
      password: '[redacted]',
      user: { apiKey: '[redacted]' },
    })
    expect(request?.redacted).toEqual(['$.password', '$.user.apiKey'])
    // The reply echoes the request's data: `..` finds its fields at any depth.
    expect(reply?.redacted).toEqual(['$.echo.password', '$.echo.user.apiKey', '$.token'])
    expect(reply?.payload).toMatchObject({ answer: 42, token: '[redacted]' })
    // The size is the payload's before redaction.
    expect(request?.size).toBeGreaterThan(JSON.stringify(request?.payload).length - 20)
  })

  it('captures the exchanges a policy rule named in capture.policies let through, and only those', async () => {
    const captureStore = createMemoryCaptureStore()
    const policyStore = createMemoryPolicyStore({ defaultEffect: 'allow' })
    await policyStore.create(
      {
        id: 'lookups',
        effect: 'allow',
        actions: ['request'],
        subject: { kind: 'principal', pattern: '*' },
        target: { kind: 'capability', pattern: 'lookup' },
      },
      Date.now(),
    )
    await fixture.start({ capture: { policies: ['lookups'] } }, { captureStore, policyStore })
    await plannerCallsWorker()
    await anotherPairCalls('planner2')
    expect((await exchanges('planner', 'worker')).exchanges).toHaveLength(1)
    expect((await exchanges('planner2', 'other')).exchanges).toEqual([])
  })

  it('steps through a captured stream: the opening data, each chunk, then the end', async () => {
    const captureStore = createMemoryCaptureStore()
    await fixture.start({ capture: { agents: ['writer'] } }, { captureStore })
    const writer = fixture.agent({ agentId: 'writer', capabilities: ['write'] })
    writer.handleStream(async (_data, sink) => {
      for (let n = 1; n <= 3; n += 1) await sink.write({ n })
      sink.end({ count: 3 })
    })
    await writer.connect()
    const reader = fixture.agent({ agentId: 'reader', capabilities: [] })
    await reader.connect()
    const chunks: unknown[] = []
    for await (const chunk of reader.stream('writer', { topic: 'numbers' })) chunks.push(chunk)
    expect(chunks).toHaveLength(3)
    const [exchange] = (await exchanges('reader', 'writer')).exchanges
    expect(exchange?.steps.map((step) => [step.step, step.payload])).toEqual([
      ['request', { topic: 'numbers' }],
      ['chunk', { n: 1 }],
      ['chunk', { n: 2 }],
      ['chunk', { n: 3 }],
      ['reply', { count: 3 }],
    ])
  })
})

describe('GET /api/admin/agent-map', () => {
  it('shows an edge between two agents that exchanged requests, weighted by requests, with its errors and the conversation to open', async () => {
    await fixture.start()
    const worker = fixture.agent({ agentId: 'worker', clientId: 'worker-1', capabilities: ['lookup'] })
    worker.handle(async (data) => {
      if ((data as { fail?: boolean }).fail === true) throw new Error('no such city')
      return 'sunny'
    })
    await worker.connect()
    const planner = fixture.agent({ agentId: 'planner', clientId: 'planner-1', capabilities: [] })
    await planner.connect()
    for (let index = 0; index < 3; index += 1) await planner.request('worker', { index })
    await expect(planner.request('worker', { fail: true })).rejects.toThrow()

    const answer = await adminCall(fixture.url, 'GET', '/api/admin/agent-map?window=5m')
    expect(answer.status).toBe(200)
    const map = AgentMap.parse(answer.body)
    expect(map.window).toBe('5m')
    expect(map.nodes.filter((node) => node.kind === 'agent').map((node) => node.id)).toEqual([
      'agent:planner',
      'agent:worker',
    ])
    const edge = map.edges.find((candidate) => candidate.id === 'agent:planner->agent:worker')
    expect(edge).toMatchObject({ messages: 4, errors: 1, denied: 0, errorRate: 0.25 })
    expect(edge?.conversation).toEqual({ a: 'planner', b: 'worker' })
    expect(edge?.avgLatencyMs).not.toBeNull()
    expect(map.edges.some((candidate) => candidate.source === 'agent:worker')).toBe(false)
    expect((await adminCall(fixture.url, 'GET', '/api/admin/agent-map?window=2d')).status).toBe(400)
  })
})
