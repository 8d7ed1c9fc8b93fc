import { AgentSendResult } from '@parley/protocol'
import { openDatabase } from '@parley/stores'
import { describe, expect, it } from 'vitest'
import type { AgentAccess } from '../src/agents/types.js'
import { connectAgent, useAgentGateway, withAgentAccess } from './support/agent-clients.js'
import type { FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway } from './support/test-gateway.js'

type DirectMessage = FrameOf<'direct_message'>

describe('agent_send', () => {
  const harness = useAgentGateway()
  const start = (access?: AgentAccess) =>
    harness.start(
      { delivery: { ackTimeout: 0.3, retryDelay: 0.1, retryBackoff: 2, maxRetries: 3 } },
      withAgentAccess(access),
    )
  const agent = async (agentId: string, capabilities: string[] = []) =>
    (await harness.agent(agentId, capabilities, { clientId: `${agentId}-client` })).client

  async function send(sender: TestClient, target: unknown, data: unknown = { note: 1 }) {
    return AgentSendResult.parse(await sender.ok({ type: 'agent_send', target, data }))
  }

  const messagesOf = (client: TestClient): DirectMessage[] => client.framesOf('direct_message')

  it('sends to an agent id: the recipient gets a direct_message with fromAgent and acks it', async () => {
    await start()
    const billing = await agent('billing')
    const planner = await agent('planner')
    const result = await send(planner, 'billing', { invoice: 7 })
    expect(result.recipients).toEqual(['billing'])
    expect(result.deliveryIds).toHaveLength(1)
    const message = await billing.next('direct_message')
    expect(message).toMatchObject({
      id: result.id,
      deliveryId: result.deliveryIds[0],
      from: 'planner-client',
      fromAgent: 'planner',
      data: { invoice: 7 },
      attempt: 1,
    })
    expect(message.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(await billing.ok({ type: 'ack', deliveryIds: [message.deliveryId] })).toEqual({ settled: 1 })
  })

  it('redelivers an agent message that was not acknowledged', async () => {
    await start()
    const billing = await agent('billing')
    const planner = await agent('planner')
    const result = await send(planner, 'billing')
    await billing.waitUntil(() => messagesOf(billing).length >= 2, 5_000, 'a redelivery')
    const [first, second] = messagesOf(billing)
    expect(second).toMatchObject({ deliveryId: result.deliveryIds[0], attempt: 2, fromAgent: 'planner' })
    expect(first?.id).toBe(second?.id)
  })

  it('sends to a capability: one holder gets it', async () => {
    await start()
    const first = await agent('summarizer-a', ['summarize'])
    const second = await agent('summarizer-b', ['summarize'])
    const planner = await agent('planner')
    const result = await send(planner, { capability: 'summarize' })
    expect(result.recipients).toHaveLength(1)
    const recipient = result.recipients[0] === 'summarizer-a' ? first : second
    const message = await recipient.next('direct_message')
    expect(message.fromAgent).toBe('planner')
    await recipient.ok({ type: 'ack', deliveryIds: [message.deliveryId] })
  })

  it('broadcasts to every other active agent, and to every holder of a capability', async () => {
    await start()
    const a = await agent('a', ['summarize'])
    const b = await agent('b', ['summarize'])
    const c = await agent('c', ['translate'])
    const sender = await agent('sender')
    const toAll = await send(sender, { broadcast: true }, 'all')
    expect([...toAll.recipients].sort()).toEqual(['a', 'b', 'c'])
    for (const recipient of [a, b, c]) {
      const message = await recipient.waitFor(
        (frame) => frame.type === 'direct_message' && frame.data === 'all',
      )
      expect(message).toMatchObject({ fromAgent: 'sender' })
    }
    const toCapability = await send(sender, { broadcast: { capability: 'summarize' } }, 'cap')
    expect([...toCapability.recipients].sort()).toEqual(['a', 'b'])
    for (const recipient of [a, b]) {
      await recipient.waitFor((frame) => frame.type === 'direct_message' && frame.data === 'cap')
    }
    expect(sender.framesOf('direct_message')).toHaveLength(0)
    expect(c.framesOf('direct_message').filter((frame) => frame.data === 'cap')).toHaveLength(0)
  })

  it('answers no_route when no agent matches, and policy_denied when every recipient is denied', async () => {
    await start({
      check: (request) =>
        request.target && 'agentId' in request.target && request.target.agentId === 'vault'
          ? {
              allowed: false,
              code: 'policy_denied',
              rule: 'pol_vault',
              message: 'the vault takes no messages',
            }
          : { allowed: true, effect: 'default' },
    })
    const sender = await agent('sender')
    expect(
      await sender.request({ type: 'agent_send', target: { capability: 'nothing' }, data: 1 }),
    ).toMatchObject({ type: 'error', code: 'no_route' })
    const vault = await agent('vault')
    const open = await agent('open')
    expect(await sender.request({ type: 'agent_send', target: 'vault', data: 1 })).toMatchObject({
      type: 'error',
      code: 'policy_denied',
      details: { rule: 'pol_vault' },
    })
    // A broadcast skips the denied recipient.
    const result = await send(sender, { broadcast: true })
    expect(result.recipients).toEqual(['open'])
    await open.next('direct_message')
    expect(vault.framesOf('direct_message')).toHaveLength(0)
    const denied = (await harness.server.audit?.query({ kind: 'message', limit: 10 }))?.events.filter(
      (event) => event.outcome === 'denied',
    )
    expect(denied?.length).toBe(2)
    expect(denied?.[0]?.detail).toContain('rule=pol_vault')
  })
})

describe('agent_send across a restart', () => {
  it('redelivers an agent message with its fromAgent and traceId after the gateway restarts on the same database', async () => {
    const database = await openDatabase({ url: 'memory://' })
    const config = { delivery: { storeBackend: 'postgres' as const, ackTimeout: 30 } }
    try {
      const before = await startTestGateway(config, { database })
      const billing = await connectAgent(before.started.wsUrl, 'billing', [], { clientId: 'billing-client' })
      const planner = await connectAgent(before.started.wsUrl, 'planner', [], { clientId: 'planner-client' })
      const result = AgentSendResult.parse(
        await planner.client.ok({ type: 'agent_send', target: 'billing', data: { invoice: 7 } }),
      )
      const first = await billing.client.next('direct_message')
      expect(first).toMatchObject({ id: result.id, fromAgent: 'planner', attempt: 1 })
      // Not acknowledged: the stop releases it, and the next process sends it again.
      await before.dispose()
      billing.client.close()
      planner.client.close()

      const after = await startTestGateway(config, { database })
      const again = await connectAgent(after.started.wsUrl, 'billing', [], { clientId: 'billing-client' })
      const second = await again.client.next('direct_message')
      expect(second).toMatchObject({
        id: result.id,
        deliveryId: first.deliveryId,
        attempt: 2,
        fromAgent: 'planner',
        traceId: first.traceId,
      })
      expect(second.traceId).toMatch(/^[0-9a-f]{32}$/)
      again.client.close()
      await after.dispose()
    } finally {
      await database.close()
    }
  })
})
