import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import type { GrantEvent, SignalEvent } from './agent-caller.js'
import type { Introduction } from './agent-client.js'
import { IntroductionRejectedError, NoRouteError } from './errors.js'
import type { DirectMessage } from './push-client-types.js'
import { nextAgentEvent, useAgentFixtures, waitUntil } from './test-support/agent-gateway.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useAgentFixtures()

const CALLER = { principal: 'planner-key', role: 'agent' as const, clientId: 'planner', agentId: 'planner' }

describe('AgentCaller.sendTo / broadcastToAgents', () => {
  it('sends agent_send frames for each kind of target and resolves with the recipients', async () => {
    const frames: Array<Extract<ClientFrame, { type: 'agent_send' }>> = []
    const gateway = await fixtures.gateway({
      onFrame(connection, frame) {
        if (frame.type !== 'agent_send') return false
        frames.push(frame)
        connection.send({
          type: 'reply',
          id: frame.id,
          result: {
            id: `msg_${frames.length}`,
            recipients: ['billing'],
            deliveryIds: ['dlv_1'],
            timestamp: 1,
          },
        })
        return true
      },
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()

    const receipt = await caller.sendTo('billing', { invoice: 7 }, { idempotencyKey: 'k-1' })
    await caller.sendTo({ capability: 'summarize' }, 2)
    await caller.broadcastToAgents({ notice: 'maintenance' })
    await caller.broadcastToAgents(4, { capability: 'summarize' })

    expect(receipt).toEqual({ id: 'msg_1', recipients: ['billing'], deliveryIds: ['dlv_1'], timestamp: 1 })
    expect(frames.map(({ target, data, idempotencyKey }) => ({ target, data, idempotencyKey }))).toEqual([
      { target: 'billing', data: { invoice: 7 }, idempotencyKey: 'k-1' },
      { target: { capability: 'summarize' }, data: 2, idempotencyKey: undefined },
      { target: { broadcast: true }, data: { notice: 'maintenance' }, idempotencyKey: undefined },
      { target: { broadcast: { capability: 'summarize' } }, data: 4, idempotencyKey: undefined },
    ])
  })

  it('delivers a direct message to an agent as a direct_message event and acknowledges it', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'billing', capabilities: [] })
    const received = new Promise<DirectMessage>((resolve) => agent.on('direct_message', resolve))
    await agent.connect()
    // The scripted server's `send` path is what the gateway's agent_send delivery uses: a direct message
    // to the agent's client id.
    const sender = fixtures.caller(gateway.server.url, { clientId: 'planner' })
    await sender.connect()
    await sender.send('billing', { invoice: 7 })

    expect(await received).toMatchObject({ from: 'planner', data: { invoice: 7 } })
    await waitUntil(() => gateway.server.directs.size === 0, 2_000, 'the ack')
  })
})

describe('introductions', () => {
  async function agentWith(setup: (agent: ReturnType<typeof fixtures.agent>) => void) {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'billing', capabilities: [] })
    setup(agent)
    await agent.connect()
    return { gateway, agent, connection: gateway.registrations[0]?.connection as ScriptedConnection }
  }

  function introduction(connection: ScriptedConnection, handshakeId: string) {
    connection.send({
      type: 'introduction',
      handshakeId,
      from: CALLER,
      reason: 'need invoices',
      traceId: 't',
    })
  }

  function nextAnswer(gateway: Awaited<ReturnType<typeof fixtures.gateway>>, handshakeId: string) {
    return gateway.server
      .nextFrame((frame) => frame.type === 'introduction_answer' && frame.handshakeId === handshakeId)
      .then(({ frame }) => frame)
  }

  it('asks onIntroduction and answers accept true / false / with a reason', async () => {
    const seen: Introduction[] = []
    const { gateway, connection } = await agentWith((agent) =>
      agent.onIntroduction(async (intro) => {
        seen.push(intro)
        if (intro.handshakeId === 'hs_1') return true
        if (intro.handshakeId === 'hs_2') return false
        return { accept: false, reason: 'not today' }
      }),
    )
    for (const [handshakeId, expected] of [
      ['hs_1', { accept: true }],
      ['hs_2', { accept: false }],
      ['hs_3', { accept: false, reason: 'not today' }],
    ] as const) {
      const answer = nextAnswer(gateway, handshakeId)
      introduction(connection, handshakeId)
      expect(await answer).toEqual({ type: 'introduction_answer', handshakeId, ...expected })
    }
    expect(seen[0]).toMatchObject({
      handshakeId: 'hs_1',
      from: CALLER,
      reason: 'need invoices',
      traceId: 't',
    })
  })

  it('rejects with reason "no handler" when there is no onIntroduction handler', async () => {
    const { gateway, connection } = await agentWith(() => undefined)
    const answer = nextAnswer(gateway, 'hs_4')
    introduction(connection, 'hs_4')
    expect(await answer).toEqual({
      type: 'introduction_answer',
      handshakeId: 'hs_4',
      accept: false,
      reason: 'no handler',
    })
  })

  it('rejects when the handler throws', async () => {
    const { gateway, connection } = await agentWith((agent) =>
      agent.onIntroduction(() => {
        throw new Error('oops')
      }),
    )
    const answer = nextAnswer(gateway, 'hs_5')
    introduction(connection, 'hs_5')
    expect(await answer).toMatchObject({ accept: false, reason: 'handler failed' })
  })

  it('introduce resolves with the grant; connected and grant_revoked events keep the grants map', async () => {
    const peer = { principal: 'billing-key', clientId: 'billing', agentId: 'billing' }
    const gateway = await fixtures.gateway({
      onFrame(connection, frame) {
        if (frame.type !== 'introduce') return false
        if (frame.target === 'nobody') {
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'introduction_rejected',
            message: 'no',
            retryable: false,
          })
          return true
        }
        connection.send({ type: 'connected', grantId: 'grt_1', peer, timestamp: 5 })
        connection.send({ type: 'reply', id: frame.id, result: { grantId: 'grt_1', peer, timestamp: 5 } })
        return true
      },
    })
    const caller = fixtures.caller(gateway.server.url)
    const connected = nextAgentEvent<GrantEvent>(caller, 'connected')
    await caller.connect()

    const grant = await caller.introduce('billing', { reason: 'need invoices' })

    expect(grant).toEqual({ grantId: 'grt_1', peer, timestamp: 5 })
    expect(await connected).toEqual({ grantId: 'grt_1', peer, timestamp: 5 })
    expect([...caller.grants.keys()]).toEqual(['grt_1'])
    const introduce = gateway.server.welcomed()[0]?.frames.find((frame) => frame.type === 'introduce')
    expect(introduce).toMatchObject({ target: 'billing', reason: 'need invoices' })

    const revoked = nextAgentEvent<GrantEvent>(caller, 'grant_revoked')
    gateway.server.welcomed()[0]?.send({ type: 'grant_revoked', grantId: 'grt_1', peer, timestamp: 9 })
    expect(await revoked).toMatchObject({ grantId: 'grt_1', timestamp: 9 })
    expect(caller.grants.size).toBe(0)

    await expect(caller.introduce('nobody')).rejects.toBeInstanceOf(IntroductionRejectedError)
  })
})

describe('signals', () => {
  it('sends a signal frame and emits incoming signals as the signal event', async () => {
    const frames: Array<Extract<ClientFrame, { type: 'signal' }>> = []
    const gateway = await fixtures.gateway({
      onFrame(connection, frame) {
        if (frame.type !== 'signal') return false
        frames.push(frame)
        if (frame.target === 'offline') {
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'no_route',
            message: 'offline',
            retryable: false,
          })
          return true
        }
        connection.send({ type: 'reply', id: frame.id, result: { delivered: true, timestamp: 3 } })
        return true
      },
    })
    const agent = fixtures.agent(gateway.server.url, { agentId: 'camera-7', capabilities: [] })
    await agent.connect()

    const receipt = await agent.signal('web-1', { type: 'offer', sdp: 'v=0', session: 'call-1' })
    expect(receipt).toEqual({ delivered: true, timestamp: 3 })
    expect(frames[0]).toMatchObject({
      target: 'web-1',
      signal: { type: 'offer', sdp: 'v=0', session: 'call-1' },
    })
    await expect(agent.signal('offline', { type: 'ice', candidate: { c: 1 } })).rejects.toBeInstanceOf(
      NoRouteError,
    )

    const incoming = nextAgentEvent<SignalEvent>(agent, 'signal')
    gateway.registrations[0]?.connection.send({
      type: 'signal_incoming',
      from: { principal: 'alice', role: 'client', clientId: 'web-1' },
      signal: { type: 'answer', sdp: 'v=0 answer', session: 'call-1' },
      traceId: 't',
      timestamp: 4,
    })
    expect(await incoming).toEqual({
      from: { principal: 'alice', role: 'client', clientId: 'web-1' },
      signal: { type: 'answer', sdp: 'v=0 answer', session: 'call-1' },
      traceId: 't',
      timestamp: 4,
    })
  })
})
