import { RequestResult } from '@parley/protocol'
import { type AuditLog, createMemoryAuditLog } from '@parley/stores'
import { describe, expect, it, vi } from 'vitest'
import type { AgentAccess } from '../src/agents/types.js'
import {
  answerRequests,
  type RequestIncoming,
  useAgentGateway,
  withAgentAccess,
} from './support/agent-clients.js'
import type { FrameOf, TestClient } from './support/test-client.js'
import type { startTestGateway } from './support/test-gateway.js'

type Answer = FrameOf<'reply'> | FrameOf<'error'>

/**
 * Sends `count` requests with at most `window` waiting at once; resolves with every answer, in sending
 * order. Answers are matched by request id, so a duplicate answer would show up as an extra frame.
 */
async function requestMany(
  caller: TestClient,
  count: number,
  window: number,
  frame: (index: number) => Record<string, unknown>,
): Promise<Answer[]> {
  const answers: Answer[] = new Array(count)
  let next = 0
  async function lane(): Promise<void> {
    while (next < count) {
      const index = next
      next += 1
      answers[index] = await caller.request(frame(index))
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
  return answers
}

describe('agent requests', () => {
  const harness = useAgentGateway()
  const start = (config: Parameters<typeof startTestGateway>[0] = {}, access?: AgentAccess) =>
    harness.start(config, withAgentAccess(access))
  const agent = (agentId: string, capabilities: string[] = []) => harness.agent(agentId, capabilities)
  const client = () => harness.client()

  it('routes a request from one agent to another and returns its reply data with latency', async () => {
    await start()
    const { client: summarizer, instanceId } = await agent('summarizer', ['summarize'])
    const seen: RequestIncoming[] = []
    answerRequests(summarizer, (frame) => {
      seen.push(frame)
      return { data: { summary: `short ${JSON.stringify(frame.data)}` } }
    })
    const { client: planner } = await agent('planner')
    const answer = await planner.request({
      type: 'request',
      target: 'summarizer',
      data: { text: 'long' },
      traceId: 'trace-1',
    })
    expect(answer.type).toBe('reply')
    const result = RequestResult.parse(answer.type === 'reply' ? answer.result : undefined)
    expect(result.data).toEqual({ summary: 'short {"text":"long"}' })
    expect(result.agentId).toBe('summarizer')
    expect(result.instanceId).toBe(instanceId)
    expect(result.attempts).toBe(1)
    expect(result.traceId).toBe('trace-1')
    expect(result.latencyMs).toBeGreaterThanOrEqual(0)
    expect(result.latencyMs).toBeLessThan(5_000)
    expect(seen[0]?.from).toMatchObject({ role: 'client', agentId: 'planner' })
    expect(seen[0]).toMatchObject({ attempt: 1, idempotent: false, traceId: 'trace-1' })
    expect(seen[0]?.deadline).toBeGreaterThan(Date.now())
  })

  it('generates a trace id and names the capability when routed by capability', async () => {
    await start()
    const { client: summarizer } = await agent('summarizer', ['summarize'])
    let seen: RequestIncoming | undefined
    answerRequests(summarizer, (frame) => {
      seen = frame
      return { data: null }
    })
    const caller = await client()
    const result = RequestResult.parse(
      await caller.ok({ type: 'request', target: { capability: 'summarize' }, data: 1 }),
    )
    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(seen?.capability).toBe('summarize')
    expect(seen?.traceId).toBe(result.traceId)
  })

  it('answers timeout when the agent does not respond in time, and drops its late respond', async () => {
    await start()
    const { client: slow } = await agent('slow')
    const caller = await client()
    const answer = await caller.request({ type: 'request', target: 'slow', data: 1, timeoutMs: 100 })
    expect(answer).toMatchObject({ type: 'error', code: 'timeout' })
    const incoming = await slow.next('request_incoming')
    slow.send({ type: 'respond', correlationId: incoming.correlationId, data: 'late' })
    // The late answer reaches nobody and the agent's connection stays usable.
    expect((await slow.request({ type: 'agents_list' })).type).toBe('reply')
    expect(caller.framesOf('reply')).toHaveLength(0)
    expect(harness.server.gateway.stats().agents.pendingRequests).toBe(0)
  })

  it("answers timeout for a respond that arrives at the deadline, even before the gateway's own timer fired", async () => {
    await start()
    const { client: slow } = await agent('slow')
    const caller = await client()
    const pending = caller.request({ type: 'request', target: 'slow', data: 1, timeoutMs: 60_000 })
    const incoming = await slow.next('request_incoming')
    // The agent's clock reached the deadline, the gateway's timer has not run yet: the deadline decides.
    vi.useFakeTimers({ toFake: ['Date'], now: incoming.deadline })
    try {
      slow.send({ type: 'respond', correlationId: incoming.correlationId, data: 'at the deadline' })
      expect(await pending).toMatchObject({ type: 'error', code: 'timeout' })
    } finally {
      vi.useRealTimers()
    }
    expect(harness.server.gateway.stats().agents.pendingRequests).toBe(0)
  })

  it('ignores a respond from an instance the request was not sent to', async () => {
    await start()
    const { client: chosen } = await agent('chosen')
    const { client: intruder } = await agent('intruder')
    const caller = await client()
    const pending = caller.request({ type: 'request', target: 'chosen', data: 1, timeoutMs: 2_000 })
    const incoming = await chosen.next('request_incoming')
    intruder.send({ type: 'respond', correlationId: incoming.correlationId, data: 'forged' })
    // The intruder's answer is dropped; the real one still completes the request.
    await intruder.ok({ type: 'agents_list' })
    chosen.send({ type: 'respond', correlationId: incoming.correlationId, data: 'real' })
    const answer = await pending
    expect(answer.type === 'reply' ? answer.result.data : answer).toBe('real')
  })

  it('answers agent_error with the agent code and message in details', async () => {
    await start()
    const { client: failing } = await agent('failing')
    answerRequests(failing, () => ({ error: { code: 'model_overloaded', message: 'try later' } }))
    const caller = await client()
    const answer = await caller.request({ type: 'request', target: 'failing', data: 1 })
    expect(answer).toMatchObject({
      type: 'error',
      code: 'agent_error',
      details: { code: 'model_overloaded', message: 'try later' },
    })
  })

  it('answers no_route for an unknown agent and for a capability nobody holds', async () => {
    await start()
    const caller = await client()
    expect(await caller.request({ type: 'request', target: 'nobody', data: 1 })).toMatchObject({
      type: 'error',
      code: 'no_route',
    })
    expect(await caller.request({ type: 'request', target: { capability: 'fly' }, data: 1 })).toMatchObject({
      type: 'error',
      code: 'no_route',
    })
  })

  it('answers policy_denied with the rule when access denies, and audits the denial', async () => {
    const denyAll: AgentAccess = {
      check: () => ({
        allowed: false,
        code: 'policy_denied',
        rule: 'pol_block_all',
        message: 'blocked by policy',
      }),
    }
    await start({}, denyAll)
    const { client: target } = await agent('guarded')
    const caller = await client()
    const answer = await caller.request({ type: 'request', target: 'guarded', data: 1 })
    expect(answer).toMatchObject({
      type: 'error',
      code: 'policy_denied',
      details: { rule: 'pol_block_all' },
    })
    expect(target.framesOf('request_incoming')).toHaveLength(0)
    const page = await harness.server.audit?.query({ kind: 'request', limit: 10 })
    const denied = page?.events.filter((event) => event.outcome === 'denied') ?? []
    expect(denied).toHaveLength(1)
    expect(denied[0]?.detail).toContain('rule=pol_block_all')
    expect(denied[0]?.target).toBe('guarded')
  })

  it('audits a request row at dispatch and a reply row with correlation and latency at completion', async () => {
    await start()
    const { client: echo } = await harness.agent('echo', [], { clientId: 'echo' })
    answerRequests(echo, (frame) => ({ data: frame.data }))
    const caller = await harness.client({ clientId: 'audit-caller' })
    const result = RequestResult.parse(
      await caller.ok({ type: 'request', target: 'echo', data: 1, traceId: 't-audit' }),
    )
    const requests = (await harness.server.audit?.query({ kind: 'request', limit: 10 }))?.events ?? []
    const replies = (await harness.server.audit?.query({ kind: 'reply', limit: 10 }))?.events ?? []
    // The request reads caller → agent, the reply agent → caller, both with the correlation id.
    expect(requests[0]).toMatchObject({
      outcome: 'ok',
      clientId: 'audit-caller',
      target: 'echo',
      traceId: 't-audit',
      correlationId: result.correlationId,
    })
    expect(replies[0]).toMatchObject({
      outcome: 'ok',
      clientId: 'echo',
      target: 'audit-caller',
      traceId: 't-audit',
      correlationId: result.correlationId,
    })
    expect(replies[0]?.latencyMs).toEqual(expect.any(Number))
  })

  it('refuses requests with a retryable unavailable while the audit log is behind, and serves them once it caught up', async () => {
    const memory = createMemoryAuditLog()
    let behind = true
    const audit: AuditLog = {
      record: (entry) => memory.record(entry),
      flush: () => memory.flush(),
      query: (filter) => memory.query(filter),
      conversation: (filter) => memory.conversation(filter),
      close: () => memory.close(),
      get dropped() {
        return memory.dropped
      },
      get behind() {
        return behind
      },
    }
    await harness.start({}, { audit })
    const { client: echo } = await harness.agent('echo')
    const seen: RequestIncoming[] = []
    answerRequests(echo, (frame) => {
      seen.push(frame)
      return { data: frame.data }
    })
    const caller = await client()
    const refused = await caller.request({ type: 'request', target: 'echo', data: 1 })
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable', retryable: true, retryAfterMs: 250 })
    expect(seen).toHaveLength(0)
    behind = false
    const answered = await caller.request({ type: 'request', target: 'echo', data: 2 })
    expect(answered.type).toBe('reply')
    expect(seen.map((frame) => frame.data)).toEqual([2])
    expect((await memory.query({ kind: 'request', limit: 10 })).events).toHaveLength(1)
  })

  it('spreads 3,000 concurrent requests fairly over 3 instances of one capability', async () => {
    await start()
    const counts = new Map<string, number>()
    for (let index = 0; index < 3; index += 1) {
      const { client: worker, instanceId } = await agent(`worker-${index}`, ['work'])
      counts.set(instanceId, 0)
      answerRequests(worker, (frame) => {
        counts.set(instanceId, (counts.get(instanceId) ?? 0) + 1)
        return { data: frame.data }
      })
    }
    const caller = await client()
    const answers = await requestMany(caller, 3_000, 50, (index) => ({
      type: 'request',
      target: { capability: 'work' },
      data: index,
    }))
    expect(answers.every((answer) => answer.type === 'reply')).toBe(true)
    for (const count of counts.values()) {
      expect(count).toBeGreaterThanOrEqual(800)
      expect(count).toBeLessThanOrEqual(1_200)
    }
  }, 60_000)

  it('fails over the idempotent requests of a killed instance: all 3,000 answered once each', async () => {
    await start()
    const workers: TestClient[] = []
    for (let index = 0; index < 3; index += 1) {
      const { client: worker } = await agent(`worker-${index}`, ['work'])
      workers.push(worker)
      // Answer a moment later, so requests are in flight on every instance when one dies.
      answerRequests(worker, (frame) => {
        setTimeout(() => {
          if (worker.readyState === 1) {
            worker.send({ type: 'respond', correlationId: frame.correlationId, data: frame.data })
          }
        }, 2)
        return undefined
      })
    }
    const caller = await client()
    let answered = 0
    const victim = workers[0]
    const run = requestMany(caller, 3_000, 50, (index) => ({
      type: 'request',
      target: { capability: 'work' },
      data: index,
      idempotent: true,
    }))
    await caller.waitUntil(
      () => {
        answered = caller.framesOf('reply').length
        return answered >= 1_000
      },
      30_000,
      'a third of the requests answered',
    )
    victim?.socket.terminate()
    const answers = await run
    expect(answers.every((answer) => answer.type === 'reply')).toBe(true)
    const data = answers.map((answer) => (answer.type === 'reply' ? answer.result.data : undefined))
    expect(data).toEqual(Array.from({ length: 3_000 }, (_, index) => index))
    // Exactly one answer per request: no duplicates reached the caller.
    expect(caller.framesOf('reply')).toHaveLength(3_000)
    const failedOver = answers.filter(
      (answer) => answer.type === 'reply' && RequestResult.parse(answer.result).attempts > 1,
    )
    expect(failedOver.length).toBeGreaterThan(0)
  }, 60_000)

  it('answers no_route when the only instance of an idempotent request is killed', async () => {
    await start()
    const { client: only } = await agent('only')
    const caller = await client()
    const pending = caller.request({ type: 'request', target: 'only', data: 1, idempotent: true })
    await only.next('request_incoming')
    only.socket.terminate()
    expect(await pending).toMatchObject({ type: 'error', code: 'no_route' })
  })

  it('answers agent_unavailable for a non-idempotent request whose instance is killed', async () => {
    await start()
    const { client: first } = await agent('worker-a', ['work'])
    const { client: second } = await agent('worker-b', ['work'])
    answerRequests(second, (frame) => ({ data: frame.data }))
    const caller = await client()
    // worker-a never answers; worker-b could have, but a request that is not idempotent is not retried.
    const pending = caller.request({ type: 'request', target: 'worker-a', data: 1 })
    await first.next('request_incoming')
    first.socket.terminate()
    expect(await pending).toMatchObject({ type: 'error', code: 'agent_unavailable' })
  })

  it('answers rate_limited beyond agents.maxInFlightPerConnection', async () => {
    await start({ agents: { maxInFlightPerConnection: 2 } })
    await agent('silent')
    const caller = await client()
    // These two stay unanswered until the caller closes at the end of the test.
    caller.request({ type: 'request', target: 'silent', data: 1 }).catch(() => {})
    caller.request({ type: 'request', target: 'silent', data: 2 }).catch(() => {})
    expect(await caller.request({ type: 'request', target: 'silent', data: 3 })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    })
  })

  it('drops the pending requests of a caller that disconnects', async () => {
    await start()
    const { client: silent } = await agent('silent')
    const caller = await client()
    caller.send({ type: 'request', id: 'x', target: 'silent', data: 1, timeoutMs: 60_000 })
    await silent.next('request_incoming')
    expect(harness.server.gateway.stats().agents.pendingRequests).toBe(1)
    caller.close()
    await caller.waitClosed()
    await expect.poll(() => harness.server.gateway.stats().agents.pendingRequests, { timeout: 5_000 }).toBe(0)
  })
})
