import { StreamOpenResult } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import {
  HostedAgentFailure,
  HostedAgentUnavailable,
  type HostedCall,
  hostAgent,
} from '../src/agents/hosted-agent.js'
import { useAgentGateway } from './support/agent-clients.js'
import type { Frame } from './support/test-client.js'

/** In-process agents (the adapters of external A2A agents and MCP upstreams) are reached like WebSocket agents. */
describe('hosted (in-process) agents', () => {
  const harness = useAgentGateway()
  const layer = () => harness.server.gateway.agents
  const reach = { kind: 'a2a' as const, url: 'http://127.0.0.1:1/card' }

  it('answers a request routed by capability, and lists as its kind with its capability descriptions', async () => {
    await harness.start()
    const seen: HostedCall[] = []
    const agent = hostAgent(
      layer(),
      {
        agentId: 'remote-echo',
        principal: 'a2a:remote-echo',
        capabilities: [{ name: 'echo', description: 'Says it back' }],
        reach,
      },
      {
        request: async (call) => {
          seen.push(call)
          return { echoed: call.data }
        },
      },
    )
    const caller = await harness.client()
    const reply = await caller.ok({ type: 'request', target: { capability: 'echo' }, data: 'hi' })
    expect(reply).toMatchObject({
      data: { echoed: 'hi' },
      agentId: 'remote-echo',
      instanceId: agent.instanceId,
    })
    expect(seen[0]).toMatchObject({
      capability: 'echo',
      data: 'hi',
      from: { clientId: expect.stringMatching(/^client_/) },
    })
    const listed = await layer().listAll()
    expect(listed[0]).toMatchObject({ agentId: 'remote-echo', kind: 'a2a' })
    expect(listed[0]?.instances[0]).toMatchObject({
      kind: 'a2a',
      url: reach.url,
      principal: 'a2a:remote-echo',
      capabilityInfo: { echo: { description: 'Says it back' } },
    })
  })

  it('turns a thrown HostedAgentFailure into agent_error with its code', async () => {
    await harness.start()
    hostAgent(
      layer(),
      { agentId: 'grumpy', principal: 'a2a:grumpy', capabilities: ['grumble'], reach },
      {
        request: async () => {
          throw new HostedAgentFailure('upstream_failed', 'the upstream said no')
        },
      },
    )
    const caller = await harness.client()
    expect(await caller.request({ type: 'request', target: 'grumpy', data: null })).toMatchObject({
      type: 'error',
      code: 'agent_error',
      message: expect.stringContaining('the upstream said no'),
    })
  })

  it('serves a stream chunk by chunk within the credit the caller grants, then ends it', async () => {
    await harness.start()
    hostAgent(
      layer(),
      { agentId: 'counter', principal: 'a2a:counter', capabilities: ['count'], reach },
      {
        request: async () => 0,
        stream: async (_call, send) => {
          for (let i = 1; i <= 5; i += 1) await send(i)
          return 'done'
        },
      },
    )
    const caller = await harness.client()
    const chunks: unknown[] = []
    let credits = 0
    const ended = new Promise<Frame>((resolve) => {
      caller.onFrame((frame) => {
        if (frame.type === 'stream_chunk') {
          chunks.push(frame.data)
          // Credit one chunk at a time: the agent must wait for each.
          credits += 1
          caller.send({ type: 'stream_credit', streamId: frame.streamId, credit: 1 })
        }
        if (frame.type === 'stream_end') resolve(frame)
      })
    })
    const opened = StreamOpenResult.parse(
      await caller.ok({ type: 'stream_open', target: 'counter', data: null, credit: 1 }),
    )
    expect(await ended).toMatchObject({ streamId: opened.streamId, data: 'done' })
    expect(chunks).toEqual([1, 2, 3, 4, 5])
    expect(credits).toBe(5)
  })

  it('fails an idempotent request over to the other instance when one closes, aborting the first handler', async () => {
    await harness.start()
    let firstAborted = false
    let started: () => void = () => undefined
    const firstStarted = new Promise<void>((resolve) => {
      started = resolve
    })
    const first = hostAgent(
      layer(),
      { agentId: 'pair', clientId: 'pair-1', principal: 'a2a:pair', capabilities: ['work'], reach },
      {
        request: (call) => {
          started()
          return new Promise((_resolve, reject) => {
            call.signal.addEventListener('abort', () => {
              firstAborted = true
              reject(new Error('aborted'))
            })
          })
        },
      },
    )
    const caller = await harness.client()
    const reply = caller.ok({ type: 'request', target: 'pair', data: 'job', idempotent: true })
    await firstStarted
    hostAgent(
      layer(),
      { agentId: 'pair', clientId: 'pair-2', principal: 'a2a:pair', capabilities: ['work'], reach },
      { request: async () => 'from the second' },
    )
    first.close()
    expect(await reply).toMatchObject({ data: 'from the second', attempts: 2 })
    expect(firstAborted).toBe(true)
    expect((await layer().listAll())[0]?.instances).toHaveLength(1)
  })

  it('hands a request back when the instance is unavailable: idempotent ones fail over, others get agent_unavailable', async () => {
    await harness.start()
    const down = {
      request: async (): Promise<unknown> => Promise.reject(new HostedAgentUnavailable('connection refused')),
    }
    hostAgent(
      layer(),
      { agentId: 'flaky', clientId: 'flaky-down', principal: 'a2a:flaky', capabilities: ['x'], reach },
      down,
    )
    const caller = await harness.client()
    expect(await caller.request({ type: 'request', target: 'flaky', data: 1 })).toMatchObject({
      type: 'error',
      code: 'agent_unavailable',
      message: expect.stringContaining('connection refused'),
    })
    hostAgent(
      layer(),
      { agentId: 'flaky', clientId: 'flaky-up', principal: 'a2a:flaky', capabilities: ['x'], reach },
      { request: async () => 'answered by the healthy one' },
    )
    // Whichever instance the balancer picks first, an idempotent request ends on the healthy one.
    for (let i = 0; i < 4; i += 1) {
      expect(await caller.ok({ type: 'request', target: 'flaky', data: i, idempotent: true })).toMatchObject({
        data: 'answered by the healthy one',
      })
    }
  })

  it('refuses to host capabilities whose input schema does not compile', async () => {
    await harness.start()
    expect(() =>
      hostAgent(
        layer(),
        {
          agentId: 'bad',
          principal: 'a2a:bad',
          capabilities: [{ name: 'x', inputSchema: { type: 'nope' } }],
          reach,
        },
        { request: async () => null },
      ),
    ).toThrow(/capability x: inputSchema/)
  })
})
