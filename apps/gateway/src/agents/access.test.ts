import {
  createMemoryGrantStore,
  createMemoryPolicyStore,
  type GrantStore,
  type PolicySnapshot,
  type PolicyStore,
} from '@parley/stores'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../bus/memory-bus.js'
import { type AgentAccessOptions, createAgentAccess, type GatewayAccess } from './access.js'
import type { AccessParty } from './types.js'

const logger = pino({ level: 'silent' })
const planner: AccessParty = {
  principal: 'planner-key',
  role: 'agent',
  clientId: 'planner',
  agentId: 'planner',
}
const billing: AccessParty = {
  principal: 'billing-key',
  role: 'agent',
  clientId: 'billing-1',
  agentId: 'billing',
  capabilities: ['billing.invoices'],
}
const alice: AccessParty = { principal: 'alice', role: 'client', clientId: 'web-1' }

describe('createAgentAccess', () => {
  const started: GatewayAccess[] = []
  const buses: MemoryBus[] = []

  afterEach(async () => {
    for (const access of started.splice(0)) access.stop()
    for (const bus of buses.splice(0)) await bus.close()
  })

  async function startAccess(overrides: Partial<AgentAccessOptions> & { nodeId?: string } = {}) {
    const network = createMemoryBusNetwork()
    const bus = overrides.bus ?? network.join(overrides.nodeId ?? 'node-1')
    buses.push(bus as MemoryBus)
    const policies = createMemoryPolicyStore({ defaultEffect: 'allow' })
    const grants = createMemoryGrantStore()
    const access = createAgentAccess({
      policies: () => policies,
      grants: () => grants,
      bus,
      liveNodes: async () => [bus.nodeId],
      defaultEffect: 'allow',
      reloadIntervalMs: 60_000,
      logger,
      ...overrides,
    })
    await access.start()
    started.push(access)
    return { access, policies, grants, bus }
  }

  it('decides by the cached rules: default allow, a deny rule naming itself, a channel rule', async () => {
    const { access, policies } = await startAccess()
    expect(access.check({ action: 'request', caller: alice, target: billing })).toEqual({
      allowed: true,
      effect: 'default',
    })
    await policies.create(
      {
        id: 'no-billing',
        effect: 'deny',
        actions: ['request'],
        subject: { kind: 'role', pattern: 'client' },
        target: { kind: 'capability', pattern: 'billing.*' },
      },
      1,
    )
    await policies.create(
      {
        id: 'ops-only',
        effect: 'deny',
        actions: ['subscribe'],
        subject: { kind: 'principal', pattern: '*' },
        target: { kind: 'channel', pattern: 'ops.*' },
      },
      2,
    )
    // Not yet: check reads the cache, which the change notice refreshes.
    expect(access.check({ action: 'request', caller: alice, target: billing }).allowed).toBe(true)
    await access.policiesChanged()
    expect(access.check({ action: 'request', caller: alice, target: billing })).toMatchObject({
      allowed: false,
      code: 'policy_denied',
      rule: 'no-billing',
    })
    expect(access.check({ action: 'request', caller: planner, target: billing }).allowed).toBe(true)
    expect(
      access.check({ action: 'subscribe', caller: planner, target: { channel: 'ops.db' } }),
    ).toMatchObject({
      allowed: false,
      rule: 'ops-only',
    })
    expect(access.check({ action: 'subscribe', caller: planner, target: { channel: 'news' } }).allowed).toBe(
      true,
    )
  })

  it('answers introduction_required under a require_introduction rule until a grant links the keys, either way', async () => {
    const { access, policies } = await startAccess()
    await policies.create(
      {
        id: 'intro',
        effect: 'require_introduction',
        actions: ['message', 'request'],
        subject: { kind: 'principal', pattern: '*' },
        target: { kind: 'capability', pattern: 'billing.*' },
      },
      1,
    )
    await access.policiesChanged()
    expect(access.check({ action: 'request', caller: planner, target: billing })).toMatchObject({
      allowed: false,
      code: 'introduction_required',
      rule: 'intro',
    })
    const grant = await access.grants.create(
      { principal: planner.principal, clientId: planner.clientId ?? '', agentId: 'planner' },
      { principal: billing.principal, clientId: 'billing-1', agentId: 'billing' },
      'invoices',
    )
    expect(access.grants.between('billing', 'planner')?.id).toBe(grant.id)
    expect(access.check({ action: 'request', caller: planner, target: billing })).toEqual({
      allowed: true,
      effect: 'require_introduction',
      rule: 'intro',
      grantId: grant.id,
    })
    // Keys are agent ids: another agent of the same client id is not linked.
    expect(
      access.check({ action: 'request', caller: { ...planner, agentId: 'other' }, target: billing }).allowed,
    ).toBe(false)
    // A channel has no grant to hold.
    expect(access.grants.between('planner', 'billing-1')).toBeUndefined()
  })

  it('drops a revoked grant from the cache and tells the listeners, once', async () => {
    const { access } = await startAccess()
    const revokedIds: string[] = []
    access.grants.onRevoked((grant) => revokedIds.push(grant.id))
    const grant = await access.grants.create(
      { principal: 'a', clientId: 'a' },
      { principal: 'b', clientId: 'b' },
      undefined,
    )
    const revoked = await access.revokeGrant(grant.id, 'admin')
    expect(revoked).toMatchObject({ id: grant.id, revokedAt: expect.any(String) })
    expect(access.grants.between('a', 'b')).toBeUndefined()
    await access.revokeGrant(grant.id, 'admin')
    expect(revokedIds).toEqual([grant.id])
    expect(await access.revokeGrant('grt_missing', 'admin')).toBeUndefined()
  })

  it('resolves a change only after the other live node reloaded, so its next check sees it', async () => {
    const network = createMemoryBusNetwork()
    const [busA, busB] = [network.join('node-a'), network.join('node-b')]
    buses.push(busA, busB)
    const policies = createMemoryPolicyStore({ defaultEffect: 'allow' })
    const grants = createMemoryGrantStore()
    // Node B reads the store slowly: without waiting for its ack, A would answer before B knows.
    let releaseB: (() => void) | undefined
    let slowB = false
    const slowPolicies: PolicyStore = {
      ...policies,
      snapshot: async (): Promise<PolicySnapshot> => {
        const snapshot = await policies.snapshot()
        if (slowB) await new Promise<void>((resolve) => (releaseB = resolve))
        return snapshot
      },
    }
    const common = {
      grants: () => grants as GrantStore,
      liveNodes: async () => ['node-a', 'node-b'],
      defaultEffect: 'allow' as const,
      reloadIntervalMs: 60_000,
      logger,
    }
    const nodeA = createAgentAccess({ ...common, policies: () => policies, bus: busA })
    const nodeB = createAgentAccess({ ...common, policies: () => slowPolicies, bus: busB })
    await nodeA.start()
    await nodeB.start()
    started.push(nodeA, nodeB)
    await policies.setDefault('deny', 1)
    slowB = true
    let resolved = false
    const change = nodeA.policiesChanged().then(() => {
      resolved = true
    })
    await vi.waitFor(() => expect(releaseB).toBeDefined())
    expect(resolved).toBe(false)
    releaseB?.()
    await change
    expect(nodeB.check({ action: 'message', caller: alice, target: planner })).toMatchObject({
      allowed: false,
      code: 'policy_denied',
    })
  })

  it('answers a change after a bounded wait when a live node never acknowledges', async () => {
    const network = createMemoryBusNetwork()
    const bus = network.join('node-a')
    buses.push(bus)
    const { access } = await startAccess({
      bus,
      liveNodes: async () => ['node-a', 'node-gone'],
      ackTimeoutMs: 50,
    })
    const began = Date.now()
    await access.policiesChanged()
    expect(Date.now() - began).toBeGreaterThanOrEqual(40)
  })

  it('picks up a change made behind its back through the interval backstop', async () => {
    const { access, policies, grants } = await startAccess({ reloadIntervalMs: 20 })
    await policies.setDefault('deny', 1)
    await grants.create({ from: { principal: 'a', clientId: 'a' }, to: { principal: 'b', clientId: 'b' } }, 1)
    await vi.waitFor(() => {
      expect(access.check({ action: 'message', caller: alice, target: planner }).allowed).toBe(false)
      expect(access.grants.between('b', 'a')).toBeDefined()
    })
    expect(access.policyVersion()).toBe(1)
  })
})
