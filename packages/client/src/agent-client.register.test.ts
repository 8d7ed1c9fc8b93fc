import { describe, expect, it } from 'vitest'
import type { AgentRegisterResultType } from './agent-caller.js'
import { ParleyError } from './errors.js'
import { nextAgentEvent, useAgentFixtures, waitUntil } from './test-support/agent-gateway.js'

const fixtures = useAgentFixtures()

describe('AgentClient registration', () => {
  it('registers with its agent id, capabilities, metadata and introduction mode before connect() resolves', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, {
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate.fr'],
      metadata: { model: 'small' },
      introductions: 'accept',
    })
    const registered = nextAgentEvent<AgentRegisterResultType>(agent, 'registered')

    await agent.connect()

    expect(gateway.registrations).toHaveLength(1)
    expect(gateway.registrations[0]?.frame).toMatchObject({
      type: 'agent_register',
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate.fr'],
      metadata: { model: 'small' },
      introductions: 'accept',
    })
    expect(agent.registered).toMatchObject({
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate.fr'],
    })
    expect(await registered).toMatchObject({ agentId: 'summarizer', instanceId: 'inst-1' })
    // The agent id is the client id, so direct messages addressed to the agent reach it.
    expect(gateway.registrations[0]?.connection.hello?.clientId).toBe('summarizer')
    expect(agent.clientId).toBe('summarizer')
  })

  it('keeps an explicit clientId apart from the agent id', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, {
      agentId: 'billing',
      capabilities: [],
      clientId: 'billing-2',
    })
    await agent.connect()
    expect(gateway.registrations[0]?.connection.hello?.clientId).toBe('billing-2')
    expect(gateway.registrations[0]?.frame.agentId).toBe('billing')
  })

  it('registers again after every reconnect, before the connect event', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'summarizer', capabilities: ['summarize'] })
    await agent.connect()
    const seenAtConnect: number[] = []
    agent.on('connect', () => {
      seenAtConnect.push(gateway.registrations.length)
    })
    const registeredAgain = nextAgentEvent<AgentRegisterResultType>(agent, 'registered')

    gateway.server.dropAll()

    expect(await registeredAgain).toMatchObject({ agentId: 'summarizer', instanceId: 'inst-2' })
    await waitUntil(() => seenAtConnect.length === 1, 2_000, 'the reconnect')
    expect(seenAtConnect).toEqual([2])
    const [first, second] = gateway.registrations
    expect(second?.connection).not.toBe(first?.connection)
    expect(second?.frame).toMatchObject({ agentId: 'summarizer', capabilities: ['summarize'] })
  })

  it('rejects connect() with the refusal when the first registration fails, and reports it as an error event', async () => {
    const gateway = await fixtures.gateway()
    gateway.refuseRegistration = 'forbidden'
    const agent = fixtures.agent(gateway.server.url, { agentId: 'intruder', capabilities: [] })
    const reported = nextAgentEvent<ParleyError>(agent, 'error')

    const error = await agent.connect().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'forbidden' })
    expect(await reported).toMatchObject({ code: 'forbidden' })
    expect(agent.registered).toBeUndefined()
  })

  it('surfaces a failed re-registration after a reconnect as an error event', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'summarizer', capabilities: ['summarize'] })
    await agent.connect()
    gateway.refuseRegistration = 'bad_request'
    const reported = nextAgentEvent<ParleyError>(agent, 'error')

    gateway.server.dropAll()

    expect(await reported).toMatchObject({ code: 'bad_request' })
    expect(agent.registered).toBeUndefined()
  })

  it('unregister() sends agent_unregister and clears registered', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'summarizer', capabilities: [] })
    await agent.connect()
    await agent.unregister()
    expect(gateway.unregistered).toEqual(['summarizer'])
    expect(agent.registered).toBeUndefined()
    expect(agent.state).toBe('connected')
  })
})
