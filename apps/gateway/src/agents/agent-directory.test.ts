import type { ServerFrame } from '@parley/protocol'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLocalBus, createMemoryBusNetwork } from '../bus/memory-bus.js'
import { type AgentConnection, createAgentDirectory } from './agent-directory.js'
import type { AgentRoute } from './types.js'

function fakeConnection(id: string): AgentConnection & { sent: ServerFrame[] } {
  const sent: ServerFrame[] = []
  return {
    id,
    clientId: `client-${id}`,
    principal: `principal-${id}`,
    role: 'agent',
    lastSeenAt: 1_000,
    isOpen: true,
    sent,
    sendFrame(frame) {
      sent.push(frame)
      return true
    },
  }
}

const register = (agentId: string, capabilities: string[] = []) => ({
  type: 'agent_register' as const,
  id: 'r1',
  agentId,
  capabilities,
})

describe('agent directory', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup() {
    return createAgentDirectory({
      bus: createLocalBus('node-a'),
      logger: pino({ level: 'silent' }),
      agentTimeoutMs: 1_000,
    })
  }

  it('chooses the least in-flight instance, ties going to the one chosen least recently', () => {
    const directory = setup()
    const ids = ['a', 'b', 'c'].map(
      (name) => directory.register(fakeConnection(name), register(`worker-${name}`, ['work'])).instanceId,
    )
    const picks = Array.from({ length: 6 }, () => directory.choose({ capability: 'work' })?.instanceId)
    // Nothing in flight: a strict rotation.
    expect(picks.slice(0, 3).sort()).toEqual([...ids].sort())
    expect(picks.slice(3)).toEqual(picks.slice(0, 3))
    // Two busy instances: the idle one wins every time.
    directory.acquire(ids[0] ?? '')
    directory.acquire(ids[1] ?? '')
    expect(directory.choose({ capability: 'work' })?.instanceId).toBe(ids[2])
    expect(directory.choose({ capability: 'work' })?.instanceId).toBe(ids[2])
    directory.release(ids[0] ?? '')
    expect(directory.resolve({ capability: 'work' }).map((route) => route.inFlight)).toEqual([0, 0, 1])
  })

  it('resolves by agent id or capability, honouring exclude', () => {
    const directory = setup()
    const first = directory.register(fakeConnection('a'), register('summarizer', ['summarize']))
    directory.register(fakeConnection('b'), register('translator', ['translate.fr']))
    expect(directory.resolve('summarizer').map((route) => route.agentId)).toEqual(['summarizer'])
    expect(directory.resolve({ capability: 'translate.fr' }).map((route) => route.agentId)).toEqual([
      'translator',
    ])
    expect(directory.resolve('summarizer', { exclude: new Set([first.instanceId]) })).toEqual([])
    expect(directory.resolve('nobody')).toEqual([])
  })

  it("carries the registration's introductions mode on its routes (ask by default), which introductions read", () => {
    const directory = setup()
    directory.register(fakeConnection('a'), { ...register('billing'), introductions: 'accept' })
    directory.register(fakeConnection('b'), register('planner'))
    expect(directory.resolve('billing')[0]?.introductions).toBe('accept')
    expect(directory.resolve('planner')[0]?.introductions).toBe('ask')
  })

  it('turns a closed connection inactive (never routed, onGone fired), removes it after agentTimeout', async () => {
    const directory = setup()
    const connection = fakeConnection('a')
    const route = directory.register(connection, register('ephemeral'))
    const gone: AgentRoute[] = []
    directory.onGone((left) => gone.push(left))
    directory.connectionClosed(connection)
    expect(gone.map((left) => left.instanceId)).toEqual([route.instanceId])
    expect(directory.resolve('ephemeral')).toEqual([])
    expect(directory.byConnection('a')).toBeUndefined()
    expect(directory.deliver(route.instanceId, { type: 'pong', ts: 1 })).toBe(false)
    expect((await directory.summaries())[0]).toMatchObject({ agentId: 'ephemeral', status: 'inactive' })
    expect(directory.activeCount()).toBe(0)
    vi.advanceTimersByTime(1_001)
    expect(await directory.summaries()).toEqual([])
  })

  it('knows an agent from its own view, re-reads the cluster only for a missing one, and forgets one that left', async () => {
    const network = createMemoryBusNetwork()
    const [busA, busB] = [network.join('node-a'), network.join('node-b')]
    const options = { logger: pino({ level: 'silent' }), agentTimeoutMs: 1_000 }
    const nodeA = createAgentDirectory({ ...options, bus: busA })
    const nodeB = createAgentDirectory({ ...options, bus: busB })
    const reads = vi.spyOn(busA, 'entries')
    const here = fakeConnection('a')
    nodeA.register(here, register('local-agent', ['work']))
    nodeB.register(fakeConnection('b'), register('remote-agent', ['summarize']))

    // A local agent: no directory read.
    expect(await nodeA.known('local-agent')).toMatchObject({ agentId: 'local-agent', status: 'active' })
    expect(reads).not.toHaveBeenCalled()
    // Missing here: one read finds it on node B; later checks use this node's view.
    expect(await nodeA.known('remote-agent')).toMatchObject({ agentId: 'remote-agent', status: 'active' })
    expect(await nodeA.known('remote-agent')).toMatchObject({ agentId: 'remote-agent' })
    expect(reads).toHaveBeenCalledTimes(1)
    // Unknown everywhere: every check reads again (an agent may have registered meanwhile), and finds nothing.
    expect(await nodeA.known('nobody')).toBeUndefined()
    expect(await nodeA.known('nobody')).toBeUndefined()
    expect(reads).toHaveBeenCalledTimes(3)

    // An agent that left: inactive at once, unknown once agentTimeout removed it.
    nodeA.connectionClosed(here)
    expect(await nodeA.known('local-agent')).toMatchObject({ agentId: 'local-agent', status: 'inactive' })
    vi.advanceTimersByTime(1_001)
    expect(await nodeA.known('local-agent')).toBeUndefined()
  })

  it('replaces an inactive instance when the same agent id registers again from the same client id', async () => {
    const directory = setup()
    const before = fakeConnection('a')
    directory.register(before, register('steady'))
    directory.connectionClosed(before)
    const after = { ...fakeConnection('b'), clientId: before.clientId }
    const route = directory.register(after, register('steady'))
    const [summary] = await directory.summaries()
    expect(summary?.instances.map((instance) => instance.instanceId)).toEqual([route.instanceId])
    expect(summary?.status).toBe('active')
  })

  it('keeps the instance id when a connection registers the same agent again with new capabilities', () => {
    const directory = setup()
    const connection = fakeConnection('a')
    const first = directory.register(connection, register('agent', ['x']))
    const second = directory.register(connection, register('agent', ['y']))
    expect(second.instanceId).toBe(first.instanceId)
    expect(directory.resolve({ capability: 'x' })).toEqual([])
    expect(directory.resolve({ capability: 'y' })).toHaveLength(1)
  })
})
