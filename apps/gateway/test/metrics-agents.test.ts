import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { AgentAccess } from '../src/agents/types.js'
import { answerRequests, useAgentGateway, withAgentAccess } from './support/agent-clients.js'
import { sample } from './support/prometheus-text.js'

describe('GET /metrics: agents, edges, refusals and transports', () => {
  const harness = useAgentGateway()
  const scrape = async () => (await fetch(`${harness.server.started.url}/metrics`)).text()

  it('counts agent requests per agent, capability and caller → agent edge, with latency, as traffic flows', async () => {
    await harness.start()
    const { client: summarizer } = await harness.agent('summarizer', ['summarize'])
    answerRequests(summarizer, (frame) =>
      (frame.data as { fail?: boolean }).fail === true
        ? { error: { code: 'bad_input', message: 'no text' } }
        : { data: 'short' },
    )
    const { client: planner } = await harness.agent('planner')
    const plain = await harness.client()

    const before = await scrape()
    expect(
      sample(before, 'parley_agent_requests_total', {
        agent: 'summarizer',
        capability: 'summarize',
        outcome: 'ok',
      }),
    ).toBeUndefined()
    expect(sample(before, 'parley_agents_active')).toBe(2)

    await planner.ok({ type: 'request', target: { capability: 'summarize' }, data: { text: 'a' } })
    await planner.ok({ type: 'request', target: { capability: 'summarize' }, data: { text: 'b' } })
    await plain.ok({ type: 'request', target: 'summarizer', data: { text: 'c' } })
    expect(
      await planner.request({ type: 'request', target: 'summarizer', data: { fail: true } }),
    ).toMatchObject({
      type: 'error',
      code: 'agent_error',
    })
    expect(await plain.request({ type: 'request', target: 'nobody', data: 1 })).toMatchObject({
      code: 'no_route',
    })

    const after = await scrape()
    expect(
      sample(after, 'parley_agent_requests_total', {
        agent: 'summarizer',
        capability: 'summarize',
        outcome: 'ok',
      }),
    ).toBe(2)
    expect(
      sample(after, 'parley_agent_requests_total', {
        agent: 'summarizer',
        capability: 'none',
        outcome: 'ok',
      }),
    ).toBe(1)
    expect(
      sample(after, 'parley_agent_requests_total', {
        agent: 'summarizer',
        capability: 'none',
        outcome: 'agent_error',
      }),
    ).toBe(1)
    expect(
      sample(after, 'parley_agent_requests_total', {
        agent: 'none',
        capability: 'none',
        outcome: 'no_route',
      }),
    ).toBe(1)
    expect(
      sample(after, 'parley_agent_edge_requests_total', {
        caller: 'planner',
        agent: 'summarizer',
        outcome: 'ok',
      }),
    ).toBe(2)
    expect(
      sample(after, 'parley_agent_edge_requests_total', {
        caller: 'planner',
        agent: 'summarizer',
        outcome: 'agent_error',
      }),
    ).toBe(1)
    expect(
      sample(after, 'parley_agent_edge_requests_total', {
        caller: 'client',
        agent: 'summarizer',
        outcome: 'ok',
      }),
    ).toBe(1)
    // Latency histograms: every answered request observed once, per agent and capability and per edge.
    expect(
      sample(after, 'parley_agent_request_duration_seconds_count', {
        agent: 'summarizer',
        capability: 'summarize',
      }),
    ).toBe(2)
    expect(
      sample(after, 'parley_agent_edge_request_duration_seconds_count', {
        caller: 'planner',
        agent: 'summarizer',
      }),
    ).toBe(3)
    expect(
      sample(after, 'parley_agent_request_duration_seconds_bucket', {
        le: '+Inf',
        agent: 'summarizer',
        capability: 'summarize',
      }),
    ).toBe(2)
    expect(sample(after, 'parley_agent_requests_in_flight')).toBe(0)
    // The audit trail's view of the same traffic.
    expect(sample(after, 'parley_interactions_total', { kind: 'request', outcome: 'ok' })).toBe(4)
    // No ids as label values: only names and codes.
    expect(after).not.toMatch(/(con|req|client)_[A-Za-z0-9]{8,}/)
    // Named as promtool checks them: counters end in _total, nothing else does.
    const types = [...after.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }))
    expect(types.length).toBeGreaterThan(40)
    for (const { name, type } of types)
      expect(name?.endsWith('_total'), `${name} (${type})`).toBe(type === 'counter')
  })

  it('counts refusals by the rule that refused them, and requests waiting in flight', async () => {
    const access: AgentAccess = {
      check: ({ caller }) =>
        caller.agentId === 'intruder'
          ? { allowed: false, code: 'policy_denied', rule: 'pol_no_intruders', message: 'blocked by policy' }
          : { allowed: true, effect: 'allow' },
    }
    await harness.start({}, withAgentAccess(access))
    const { client: slow } = await harness.agent('slow')
    const { client: intruder } = await harness.agent('intruder')
    const { client: friend } = await harness.agent('friend')
    expect(await intruder.request({ type: 'request', target: 'slow', data: 1 })).toMatchObject({
      code: 'policy_denied',
    })
    const waiting = friend.request({ type: 'request', target: 'slow', data: 1 })
    await slow.next('request_incoming')

    const during = await scrape()
    expect(sample(during, 'parley_access_denials_total', { kind: 'request', rule: 'pol_no_intruders' })).toBe(
      1,
    )
    expect(
      sample(during, 'parley_agent_requests_total', {
        agent: 'none',
        capability: 'none',
        outcome: 'policy_denied',
      }),
    ).toBe(1)
    expect(sample(during, 'parley_agent_requests_in_flight')).toBe(1)

    const incoming = slow.framesOf('request_incoming')[0]
    slow.send({ type: 'respond', correlationId: incoming?.correlationId, data: 'done' })
    expect(await waiting).toMatchObject({ type: 'reply' })
    expect(sample(await scrape(), 'parley_agent_requests_in_flight')).toBe(0)
  })

  it("names in deploy/grafana's dashboard only metrics the gateway exports", async () => {
    await harness.start()
    const exported = new Set(
      [...(await scrape()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name ?? ''],
      ),
    )
    const dashboard = JSON.parse(
      readFileSync(new URL('../../../deploy/grafana/parley-gateway.json', import.meta.url), 'utf8'),
    ) as { panels: Array<{ targets: Array<{ expr: string }> }> }
    const named = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        [...target.expr.matchAll(/\b((?:parley|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]),
      ),
    )
    expect(named.length).toBeGreaterThan(20)
    expect(named.filter((name) => !exported.has(name ?? ''))).toEqual([])
  })

  it('counts open connections by transport and the long-polling sessions', async () => {
    await harness.start()
    await harness.client()
    await harness.client()
    const base = harness.server.started.url
    const opened = await fetch(`${base}/poll/open`, { method: 'POST' })
    expect(opened.status).toBe(200)
    const text = await scrape()
    expect(sample(text, 'parley_connections_by_transport', { transport: 'websocket' })).toBe(2)
    expect(sample(text, 'parley_polling_sessions')).toBe(1)
    expect(sample(text, 'parley_connections_by_transport', { transport: 'polling' })).toBe(1)
  })
})
