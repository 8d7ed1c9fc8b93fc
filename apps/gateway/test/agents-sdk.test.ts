import {
  AgentError,
  type GrantEvent,
  IntroductionRejectedError,
  IntroductionRequiredError,
  NoRouteError,
  PolicyDeniedError,
  RequestTimeoutError,
  type SignalEvent,
  type StateChangeEvent,
} from '@parley/client'
import { AgentList, DeliveryStats, GrantList } from '@parley/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { once, RefusedWebSocket, SdkFixture, trackedWebSocket, waitUntil } from './support/sdk-agents.js'

/** An error carrying the code an agent handler wants the caller to see. */
function agentFailure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

describe('agents through the SDK against a real gateway', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  const admin = (method: string, path: string, body?: unknown) => adminCall(fixture.url, method, path, body)

  it('request/response between two agents resolves the reply; timeout, policy denied, no route and agent error each reject with their typed error', async () => {
    await fixture.start()
    const created = await admin('POST', '/api/admin/policies', {
      id: 'deny-secrets',
      effect: 'deny',
      actions: ['request'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'secret.*' },
      priority: 10,
    })
    expect(created.status).toBe(201)

    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    // Catch-all: requests by agent id carry no capability, so a handle('echo', ...) would not see them.
    echo.handle((data, ctx) => ({ echoed: data, from: ctx.from.agentId ?? ctx.from.clientId }))
    const slow = fixture.agent({ agentId: 'slow', capabilities: ['slow'] })
    // Never answers before the deadline: ctx.signal fires then, and the answer is dropped.
    slow.handle(
      (_data, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve('too late'), { once: true }),
        ),
    )
    const failing = fixture.agent({ agentId: 'failing', capabilities: ['fail'] })
    failing.handle(() => {
      throw agentFailure('model_overloaded', 'try later')
    })
    const vault = fixture.agent({ agentId: 'vault', capabilities: ['secret.files'] })
    vault.handle(() => 'the secret')
    // The caller is an agent too: requests between two agents.
    const planner = fixture.agent({ agentId: 'planner', capabilities: ['plan'] })
    await Promise.all([echo, slow, failing, vault, planner].map((client) => client.connect()))

    const result = await planner.requestResult({ capability: 'echo' }, { text: 'hi' })
    expect(result).toMatchObject({
      data: { echoed: { text: 'hi' }, from: 'planner' },
      agentId: 'echo',
      instanceId: echo.registered?.instanceId,
      attempts: 1,
    })
    expect(await planner.request('echo', 42)).toEqual({ echoed: 42, from: 'planner' })

    const timedOut = await planner.request('slow', null, { timeoutMs: 300 }).catch((error: unknown) => error)
    expect(timedOut).toBeInstanceOf(RequestTimeoutError)
    expect(timedOut).toMatchObject({ code: 'timeout' })

    const denied = await planner
      .request({ capability: 'secret.files' }, null)
      .catch((error: unknown) => error)
    expect(denied).toBeInstanceOf(PolicyDeniedError)
    expect(denied).toMatchObject({ code: 'policy_denied', rule: 'deny-secrets' })

    const unrouted = await planner.request('nobody', null).catch((error: unknown) => error)
    expect(unrouted).toBeInstanceOf(NoRouteError)
    expect(unrouted).toMatchObject({ code: 'no_route' })

    const failed = await planner.request({ capability: 'fail' }, null).catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(AgentError)
    expect(failed).toMatchObject({
      code: 'agent_error',
      agentCode: 'model_overloaded',
      agentMessage: 'try later',
    })
  })

  it("rejects with RequestTimeoutError, never the late answer, when an agent answers at the gateway's deadline before any timer fired", async () => {
    await fixture.start()
    const late = fixture.agent({ agentId: 'late', capabilities: ['late'] })
    let answer: ((data: string) => void) | undefined
    const received = new Promise<number>((resolveReceived) => {
      // Ignores its signal: it answers whenever the test lets it.
      late.handle(
        (_data, ctx) =>
          new Promise<string>((resolve) => {
            answer = resolve
            resolveReceived(ctx.deadline)
          }),
      )
    })
    const caller = fixture.caller('impatient')
    await Promise.all([late.connect(), caller.connect()])

    const outcome = caller.request('late', null, { timeoutMs: 60_000 }).catch((error: unknown) => error)
    const deadline = await received
    // Every clock reads the deadline, and no timer has fired: the gateway's, the agent's and the caller's
    // are a minute away. The order is the worst one: the answer reaches the gateway before its own timer.
    vi.useFakeTimers({ toFake: ['Date'], now: deadline })
    try {
      answer?.('too late')
      const timedOut = await outcome
      expect(timedOut).toBeInstanceOf(RequestTimeoutError)
      expect(timedOut).toMatchObject({ code: 'timeout' })
    } finally {
      vi.useRealTimers()
    }
    expect(fixture.server?.gateway.stats().agents.pendingRequests).toBe(0)
  })

  it('introduce: ACCEPT lets requests through under a require_introduction policy; REJECT answers introduction_rejected; revoking the grant blocks them again with IntroductionRequiredError and both sides get grant_revoked', async () => {
    await fixture.start()
    const rule = await admin('POST', '/api/admin/policies', {
      id: 'billing-needs-introduction',
      effect: 'require_introduction',
      actions: ['request'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'capability', pattern: 'billing.*' },
    })
    expect(rule.status).toBe(201)
    const billing = fixture.agent({ agentId: 'billing', capabilities: ['billing.invoices'] })
    billing.handle(() => ({ invoices: 3 }))
    const asked: string[] = []
    billing.onIntroduction((introduction) => {
      asked.push(`${introduction.from.clientId}: ${introduction.reason ?? ''}`)
      return introduction.from.clientId === 'planner' ? true : { accept: false, reason: 'strangers pay cash' }
    })
    const planner = fixture.caller('planner')
    const stranger = fixture.caller('stranger')
    await Promise.all([billing.connect(), planner.connect(), stranger.connect()])

    const before = await planner.request('billing', null).catch((error: unknown) => error)
    expect(before).toBeInstanceOf(IntroductionRequiredError)

    const billingConnected = once<GrantEvent>((listener) => {
      billing.on('connected', listener)
      return () => billing.off('connected', listener)
    })
    const plannerConnected = once<GrantEvent>((listener) => {
      planner.on('connected', listener)
      return () => planner.off('connected', listener)
    })
    const grant = await planner.introduce('billing', { reason: 'need invoices for Q3' })
    expect(grant.grantId).toMatch(/^grt_/)
    expect(grant.peer).toMatchObject({ agentId: 'billing', clientId: 'billing' })
    expect((await billingConnected).grantId).toBe(grant.grantId)
    expect((await plannerConnected).grantId).toBe(grant.grantId)
    expect(asked).toEqual(['planner: need invoices for Q3'])
    expect(planner.grants.has(grant.grantId)).toBe(true)
    expect(billing.grants.has(grant.grantId)).toBe(true)
    expect(await planner.request({ capability: 'billing.invoices' }, null)).toEqual({ invoices: 3 })

    const rejected = await stranger.introduce('billing').catch((error: unknown) => error)
    expect(rejected).toBeInstanceOf(IntroductionRejectedError)
    expect(rejected).toMatchObject({ code: 'introduction_rejected' })
    expect(await stranger.request('billing', null).catch((error: unknown) => error)).toBeInstanceOf(
      IntroductionRequiredError,
    )

    const billingRevoked = once<GrantEvent>((listener) => {
      billing.on('grant_revoked', listener)
      return () => billing.off('grant_revoked', listener)
    })
    const plannerRevoked = once<GrantEvent>((listener) => {
      planner.on('grant_revoked', listener)
      return () => planner.off('grant_revoked', listener)
    })
    const revoked = await fetch(`${fixture.url}/api/admin/grants/${grant.grantId}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    })
    expect(revoked.status).toBeLessThan(300)
    expect((await billingRevoked).grantId).toBe(grant.grantId)
    expect((await plannerRevoked).grantId).toBe(grant.grantId)
    expect(planner.grants.has(grant.grantId)).toBe(false)
    expect(billing.grants.has(grant.grantId)).toBe(false)
    expect(GrantList.parse((await admin('GET', '/api/admin/grants')).body).grants).toEqual([])
    const after = await planner.request('billing', null).catch((error: unknown) => error)
    expect(after).toBeInstanceOf(IntroductionRequiredError)
    expect(after).toMatchObject({ code: 'introduction_required' })
  })

  it("introduce: an agent registered with introductions 'accept' or 'reject' is answered by the gateway, without asking it", async () => {
    await fixture.start()
    const open = fixture.agent({ agentId: 'open-desk', capabilities: ['desk'], introductions: 'accept' })
    const closed = fixture.agent({ agentId: 'closed-desk', capabilities: ['desk'], introductions: 'reject' })
    const asked: string[] = []
    for (const agent of [open, closed]) {
      agent.onIntroduction(() => {
        asked.push(agent.agentId)
        return { accept: false, reason: 'the handler should not be asked' }
      })
    }
    const visitor = fixture.caller('visitor')
    await Promise.all([open.connect(), closed.connect(), visitor.connect()])
    const grant = await visitor.introduce('open-desk')
    expect(grant.peer).toMatchObject({ agentId: 'open-desk' })
    await waitUntil(() => open.grants.has(grant.grantId), 5_000, "the agent's connected event")
    const refused = await visitor.introduce('closed-desk').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(IntroductionRejectedError)
    expect(asked).toEqual([])
  })

  it('20 concurrent compare-and-set writers through the SDK lose no update and a watcher sees every version in order', async () => {
    await fixture.start()
    const writers = Array.from({ length: 20 }, (_, index) => fixture.caller(`writer-${index}`))
    const watcher = fixture.caller('watcher')
    await Promise.all([...writers, watcher].map((client) => client.connect()))
    const seen: StateChangeEvent[] = []
    await watcher.sharedState.watch('counter-ns', 'count', (change) => {
      seen.push(change)
    })
    const incrementsEach = 5
    const total = writers.length * incrementsEach
    await Promise.all(
      writers.map(async (writer) => {
        for (let step = 0; step < incrementsEach; step += 1) {
          // Every writer races the 19 others on one key: allow enough compare-and-set retries.
          await writer.sharedState.update<number>('counter-ns', 'count', (current) => (current ?? 0) + 1, {
            retries: 200,
          })
        }
      }),
    )
    const entry = await watcher.sharedState.get('counter-ns', 'count')
    expect(entry).toMatchObject({ value: total, version: total })
    await waitUntil(() => seen.length >= total, 10_000, 'the watcher saw every version')
    expect(seen.map((change) => change.version)).toEqual(
      Array.from({ length: total }, (_, index) => index + 1),
    )
    // Each version holds the count after that many increments: no write was lost or applied twice.
    expect(seen.map((change) => change.value)).toEqual(Array.from({ length: total }, (_, index) => index + 1))
  })

  it('offer / answer / ice are relayed between two peers through the SDK; a signal to an unknown peer rejects with NoRouteError', async () => {
    await fixture.start()
    const camera = fixture.agent({ agentId: 'camera-7', capabilities: ['video'] })
    const viewer = fixture.caller('viewer')
    await Promise.all([camera.connect(), viewer.connect()])
    const nextSignal = (client: typeof viewer) =>
      once<SignalEvent>((listener) => {
        client.on('signal', listener)
        return () => client.off('signal', listener)
      })

    const offerArrives = nextSignal(camera)
    const sent = await viewer.signal('camera-7', { type: 'offer', sdp: 'v=0 offer', session: 'call-1' })
    expect(sent.delivered).toBe(true)
    const offer = await offerArrives
    expect(offer.signal).toEqual({ type: 'offer', sdp: 'v=0 offer', session: 'call-1' })
    expect(offer.from).toMatchObject({ clientId: 'viewer' })

    // The camera answers the viewer by its client id (it is not an agent).
    const answerArrives = nextSignal(viewer)
    await camera.signal('viewer', { type: 'answer', sdp: 'v=0 answer', session: 'call-1' })
    const answer = await answerArrives
    expect(answer.signal).toEqual({ type: 'answer', sdp: 'v=0 answer', session: 'call-1' })
    expect(answer.from).toMatchObject({ clientId: 'camera-7', agentId: 'camera-7' })

    const iceArrives = nextSignal(camera)
    await viewer.signal('camera-7', { type: 'ice', candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host' })
    expect((await iceArrives).signal).toMatchObject({
      type: 'ice',
      candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host',
    })

    const unknown = await viewer
      .signal('nobody-here', { type: 'offer', sdp: 'v=0' })
      .catch((error: unknown) => error)
    expect(unknown).toBeInstanceOf(NoRouteError)
  })

  it('an agent re-registers after a reconnect and stays listed in agents()/GET /agents', async () => {
    await fixture.start()
    const tracked = trackedWebSocket()
    const worker = fixture.agent({
      agentId: 'worker',
      capabilities: ['work'],
      metadata: { model: 'small' },
      WebSocket: tracked.WebSocket,
    })
    worker.handle(() => 'done')
    const caller = fixture.caller('caller')
    await Promise.all([worker.connect(), caller.connect()])
    const firstInstance = worker.registered?.instanceId
    expect(firstInstance).toBeDefined()

    const registeredAgain = once<unknown>((listener) => {
      worker.on('registered', listener)
      return () => worker.off('registered', listener)
    })
    // A crash of the link: no close frame.
    tracked.sockets[0]?.terminate()
    await registeredAgain
    expect(tracked.sockets).toHaveLength(2)

    const listed = await caller.agents({ capability: 'work' })
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ agentId: 'worker', status: 'active', capabilities: ['work'] })
    // The new registration replaced the dead one (same client id): one instance, active.
    expect(listed[0]?.instances).toHaveLength(1)
    expect(listed[0]?.instances[0]).toMatchObject({ clientId: 'worker', status: 'active' })

    const http = await fetch(`${fixture.url}/agents?capability=work`)
    expect(http.status).toBe(200)
    const overHttp = AgentList.parse(await http.json())
    expect(overHttp.agents.map((agent) => [agent.agentId, agent.status])).toEqual([['worker', 'active']])
    expect(await caller.request({ capability: 'work' }, null)).toBe('done')
  })

  it('sendTo an agent and broadcastToAgents deliver at least once and are acknowledged', async () => {
    // A quick retry after a nack, so the redelivery is not waited for long.
    await fixture.start({ delivery: { retryDelay: 0.05 } })
    const inbox = fixture.agent({ agentId: 'inbox', capabilities: ['notes'] })
    const archive = fixture.agent({ agentId: 'archive', capabilities: ['notes'] })
    const sender = fixture.agent({ agentId: 'sender', capabilities: ['send'] })
    const received = new Map<string, Array<{ data: unknown; fromAgent: string | undefined }>>()
    let failedOnce = false
    for (const agent of [inbox, archive]) {
      received.set(agent.agentId, [])
      agent.on('direct_message', (message) => {
        received.get(agent.agentId)?.push({ data: message.data, fromAgent: message.fromAgent })
        // The first delivery to the archive fails: auto-ack nacks it and the gateway delivers it again.
        if (agent.agentId === 'archive' && !failedOnce) {
          failedOnce = true
          throw new Error('disk busy')
        }
      })
    }
    await Promise.all([inbox.connect(), archive.connect(), sender.connect()])

    const direct = await sender.sendTo('inbox', { note: 'just for you' })
    expect(direct.recipients).toEqual(['inbox'])
    const broadcast = await sender.broadcastToAgents({ note: 'everyone' }, { capability: 'notes' })
    expect([...broadcast.recipients].sort()).toEqual(['archive', 'inbox'])

    const stats = async () => DeliveryStats.parse((await admin('GET', '/api/admin/deliveries')).body)
    let latest = await stats()
    await waitUntil(
      async () => {
        latest = await stats()
        return latest.counters.acked >= 3 && latest.pending + latest.inflight === 0
      },
      15_000,
      'every delivery acknowledged',
    )
    expect(latest.counters.acked).toBe(3)
    expect(latest.counters.nacked).toBe(1)
    expect(latest.deadLetters).toBe(0)
    expect(received.get('inbox')).toEqual([
      { data: { note: 'just for you' }, fromAgent: 'sender' },
      { data: { note: 'everyone' }, fromAgent: 'sender' },
    ])
    // Delivered twice (the nacked attempt and its retry), acknowledged once.
    expect(received.get('archive')).toEqual([
      { data: { note: 'everyone' }, fromAgent: 'sender' },
      { data: { note: 'everyone' }, fromAgent: 'sender' },
    ])
  })

  it('an agent connected over HTTP long-polling answers requests and serves streams', async () => {
    await fixture.start()
    const poller = fixture.agent({ agentId: 'poller', capabilities: ['poll'], WebSocket: RefusedWebSocket })
    poller.handle(() => 'answered over polling')
    poller.handleStream(async (_data, sink) => {
      for (let n = 1; n <= 50; n += 1) await sink.write(n)
    })
    const caller = fixture.caller('polling-caller')
    await Promise.all([poller.connect(), caller.connect()])
    expect(poller.transport).toBe('polling')
    expect(await caller.request({ capability: 'poll' }, null)).toBe('answered over polling')
    const chunks: number[] = []
    for await (const chunk of caller.stream<number>('poller', null)) chunks.push(chunk)
    expect(chunks).toEqual(Array.from({ length: 50 }, (_, index) => index + 1))
  })
})
