import { randomUUID } from 'node:crypto'
import { StateEntry, StateHistoryResult } from '@parley/protocol'
import { createMemoryStateStore, createPostgresStateStore, type StateStore } from '@parley/stores'
import { databaseTargets, useSuiteDatabase } from '@parley/stores/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import type { AgentAccess } from '../src/agents/types.js'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { BUS_TOPICS } from '../src/bus/types.js'
import type { CreateGatewayOptions } from '../src/create-gateway.js'
import { adminCall } from './support/admin-api.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

type Entry = z.infer<typeof StateEntry>
type StateChange = FrameOf<'state_change'>

const LIMITS = { maxHistoryPerKey: 200, maxValueBytes: 2_048, maxWatchesPerConnection: 4 }

/** Where the shared state lives: a memory store both nodes share, or the gateway's own Postgres store. */
interface StateTarget {
  label: string
  /** Gateway options of each node, and the store the nodes use (for writes behind the gateway's back). */
  setup(): { options: Partial<CreateGatewayOptions>; config: Record<string, unknown>; store: StateStore }
}

function stateTargets(): StateTarget[] {
  const targets: StateTarget[] = []
  targets.push({
    label: 'memory',
    setup: () => {
      const store = createMemoryStateStore(LIMITS)
      return { options: { stateStore: store }, config: {}, store }
    },
  })
  for (const target of databaseTargets()) {
    targets.push({
      label: target.label,
      setup: () => {
        // Both nodes open the Postgres state store on the shared database themselves (delivery backend postgres).
        const database = suiteDatabases.get(target.label)?.database
        if (database === undefined) throw new Error('the suite database is opened in beforeAll')
        return {
          options: { database },
          config: { delivery: { storeBackend: 'postgres' } },
          store: createPostgresStateStore(database, LIMITS),
        }
      },
    })
  }
  return targets
}

const suiteDatabases = new Map<string, ReturnType<typeof useSuiteDatabase>>()

for (const target of stateTargets()) {
  describe(`shared state on ${target.label}`, () => {
    if (target.label !== 'memory') {
      const database = databaseTargets().find((candidate) => candidate.label === target.label)
      if (database !== undefined) suiteDatabases.set(target.label, useSuiteDatabase(database))
    }
    const network = createMemoryBusNetwork()
    let buses: MemoryBus[] = []
    let nodes: TestGateway[] = []
    let store: StateStore
    const clients: TestClient[] = []

    beforeAll(async () => {
      const { options, config, store: shared } = target.setup()
      store = shared
      buses = ['state-node-1', 'state-node-2'].map((id) => network.join(id))
      for (const bus of buses) {
        nodes.push(await startTestGateway({ ...config, state: LIMITS }, { ...options, bus }))
      }
    })

    afterEach(() => {
      for (const client of clients.splice(0)) client.close()
    })

    afterAll(async () => {
      for (const node of nodes) await node.dispose()
      for (const bus of buses) await bus.close()
      nodes = []
    })

    async function connect(node = 0): Promise<TestClient> {
      const client = await TestClient.connect(nodes[node]?.started.wsUrl ?? '')
      clients.push(client)
      return client
    }

    const fresh = () => `ns-${randomUUID().slice(0, 8)}`

    function changes(client: TestClient, namespace: string, key?: string): StateChange[] {
      return client
        .framesOf('state_change')
        .filter((change) => change.namespace === namespace && (key === undefined || change.key === key))
    }

    async function increment(client: TestClient, namespace: string, key: string, times: number) {
      for (let done = 0; done < times; ) {
        const { entry } = (await client.ok({ type: 'state_get', namespace, key })) as { entry: Entry | null }
        const value = ((entry?.value as number | undefined) ?? 0) + 1
        const answer = await client.request({
          type: 'state_set',
          namespace,
          key,
          value,
          expectedVersion: entry?.version ?? 0,
        })
        if (answer.type === 'reply') done += 1
        else if (answer.code !== 'version_conflict') throw new Error(`unexpected ${JSON.stringify(answer)}`)
      }
    }

    it('20 concurrent compare-and-set writers lose no update', { timeout: 120_000 }, async () => {
      const namespace = fresh()
      const perWriter = 5
      const total = 20 * perWriter
      const [sameNode, otherNode, namespaceWatcher] = [await connect(0), await connect(1), await connect(1)]
      await sameNode.ok({ type: 'state_watch', namespace, key: 'counter' })
      await otherNode.ok({ type: 'state_watch', namespace, key: 'counter' })
      await namespaceWatcher.ok({ type: 'state_watch', namespace })
      // Writers on both nodes, so each watcher gets versions from its own node and over the bus.
      const writers = await Promise.all(Array.from({ length: 20 }, (_, index) => connect(index % 2)))
      await Promise.all(writers.map((writer) => increment(writer, namespace, 'counter', perWriter)))

      const { entry } = (await sameNode.ok({ type: 'state_get', namespace, key: 'counter' })) as {
        entry: Entry
      }
      expect(entry.value).toBe(total)
      expect(entry.version).toBe(total)
      const { versions } = StateHistoryResult.parse(
        await sameNode.ok({ type: 'state_history', namespace, key: 'counter' }),
      )
      expect(versions.map((version) => version.version)).toEqual(
        Array.from({ length: total }, (_, index) => total - index),
      )
      const expected = Array.from({ length: total }, (_, index) => index + 1)
      for (const watcher of [sameNode, otherNode, namespaceWatcher]) {
        await watcher.waitUntil(() => changes(watcher, namespace).length >= total, 30_000, 'every version')
        // A round trip after the last version: a duplicate sent before it would be recorded by now.
        await watcher.ok({ type: 'state_list', namespace })
        expect(changes(watcher, namespace).map((change) => change.version)).toEqual(expected)
        expect(changes(watcher, namespace).map((change) => change.value)).toEqual(expected)
      }
    })

    it('answers get, set, delete, list and history with the entries as stored', async () => {
      const namespace = fresh()
      const client = await connect()
      expect(await client.ok({ type: 'state_get', namespace, key: 'plan' })).toEqual({ entry: null })
      const { entry } = (await client.ok({
        type: 'state_set',
        namespace,
        key: 'plan',
        value: { step: 1 },
      })) as {
        entry: Entry
      }
      expect(StateEntry.parse(entry)).toMatchObject({
        namespace,
        key: 'plan',
        value: { step: 1 },
        version: 1,
        updatedBy: 'anonymous',
      })
      expect(await client.ok({ type: 'state_get', namespace, key: 'plan' })).toEqual({ entry })
      await client.ok({ type: 'state_set', namespace, key: 'plan', value: { step: 2 }, expectedVersion: 1 })
      await client.ok({ type: 'state_set', namespace, key: 'other', value: 'x' })
      const listed = (await client.ok({ type: 'state_list', namespace })) as { entries: Entry[] }
      expect(listed.entries.map((item) => [item.key, item.version])).toEqual([
        ['other', 1],
        ['plan', 2],
      ])
      const paged = (await client.ok({ type: 'state_list', namespace, after: 'other', limit: 1 })) as {
        entries: Entry[]
      }
      expect(paged.entries.map((item) => item.key)).toEqual(['plan'])
      expect(await client.ok({ type: 'state_delete', namespace, key: 'plan' })).toEqual({
        deleted: true,
        version: 3,
      })
      expect(await client.ok({ type: 'state_delete', namespace, key: 'plan' })).toEqual({ deleted: false })
      expect(await client.ok({ type: 'state_get', namespace, key: 'plan' })).toEqual({ entry: null })
      const { versions } = StateHistoryResult.parse(
        await client.ok({ type: 'state_history', namespace, key: 'plan' }),
      )
      expect(versions.map((version) => [version.version, version.deleted, version.value])).toEqual([
        [3, true, null],
        [2, false, { step: 2 }],
        [1, false, { step: 1 }],
      ])
      const limited = StateHistoryResult.parse(
        await client.ok({ type: 'state_history', namespace, key: 'plan', limit: 1 }),
      )
      expect(limited.versions.map((version) => version.version)).toEqual([3])
    })

    it('compare-and-set: 0 means must not exist, a wrong version answers version_conflict with the current one', async () => {
      const namespace = fresh()
      const client = await connect()
      await client.ok({ type: 'state_set', namespace, key: 'k', value: 1, expectedVersion: 0 })
      const again = await client.request({
        type: 'state_set',
        namespace,
        key: 'k',
        value: 2,
        expectedVersion: 0,
      })
      expect(again).toMatchObject({ type: 'error', code: 'version_conflict', details: { currentVersion: 1 } })
      const stale = await client.request({
        type: 'state_set',
        namespace,
        key: 'k',
        value: 2,
        expectedVersion: 7,
      })
      expect(stale).toMatchObject({ type: 'error', code: 'version_conflict', details: { currentVersion: 1 } })
      const wrongDelete = await client.request({
        type: 'state_delete',
        namespace,
        key: 'k',
        expectedVersion: 2,
      })
      expect(wrongDelete).toMatchObject({
        type: 'error',
        code: 'version_conflict',
        details: { currentVersion: 1 },
      })
      expect(await client.ok({ type: 'state_delete', namespace, key: 'k', expectedVersion: 1 })).toEqual({
        deleted: true,
        version: 2,
      })
      const absent = await client.request({
        type: 'state_set',
        namespace,
        key: 'k',
        value: 3,
        expectedVersion: 2,
      })
      expect(absent).toMatchObject({
        type: 'error',
        code: 'version_conflict',
        details: { currentVersion: 0 },
      })
      // Versions go on after a deletion: an old expectedVersion never matches the new value.
      const recreated = (await client.ok({
        type: 'state_set',
        namespace,
        key: 'k',
        value: 3,
        expectedVersion: 0,
      })) as { entry: Entry }
      expect(recreated.entry.version).toBe(3)
    })

    it('a namespace watch sees every key; unwatch stops the changes; a watch replies the current entries', async () => {
      const namespace = fresh()
      const writer = await connect(0)
      const watcher = await connect(1)
      await writer.ok({ type: 'state_set', namespace, key: 'a', value: 'a1' })
      const watched = (await watcher.ok({ type: 'state_watch', namespace })) as { entries: Entry[] }
      expect(watched.entries.map((entry) => [entry.key, entry.value, entry.version])).toEqual([
        ['a', 'a1', 1],
      ])
      await writer.ok({ type: 'state_set', namespace, key: 'a', value: 'a2' })
      await writer.ok({ type: 'state_set', namespace, key: 'b', value: 'b1' })
      await writer.ok({ type: 'state_delete', namespace, key: 'a' })
      await watcher.waitUntil(() => changes(watcher, namespace).length >= 3)
      expect(
        changes(watcher, namespace).map((change) => [
          change.key,
          change.version,
          change.value,
          change.deleted,
        ]),
      ).toEqual([
        ['a', 2, 'a2', false],
        ['b', 1, 'b1', false],
        ['a', 3, null, true],
      ])
      expect(await watcher.ok({ type: 'state_unwatch', namespace })).toEqual({ namespace })
      await writer.ok({ type: 'state_set', namespace, key: 'b', value: 'b2' })
      // c1 reaching another watcher on the same node shows later writes got there; the unwatched one got none.
      const again = await connect(1)
      await again.ok({ type: 'state_watch', namespace, key: 'c' })
      await writer.ok({ type: 'state_set', namespace, key: 'c', value: 'c1' })
      await again.waitUntil(() => changes(again, namespace).length === 1)
      await watcher.ok({ type: 'state_list', namespace })
      expect(changes(watcher, namespace)).toHaveLength(3)
    })

    it('a watcher gets a version that arrived ahead of missing ones after them, from the history, once each', async () => {
      const namespace = fresh()
      const watcher = await connect(0)
      await watcher.ok({ type: 'state_watch', namespace, key: 'k' })
      // Three writes behind the gateway's back, then only the third announced (as if 1 and 2 were lost
      // or still on their way from other nodes).
      for (const value of ['v1', 'v2', 'v3']) await store.set(namespace, 'k', value, { by: 'elsewhere' })
      const elsewhere = network.join(`elsewhere-${randomUUID()}`)
      const [third, second] = (await store.history(namespace, 'k')).map((version) => ({
        namespace,
        key: 'k',
        ...version,
      }))
      elsewhere.publish(BUS_TOPICS.state(namespace), JSON.stringify(third))
      await watcher.waitUntil(() => changes(watcher, namespace).length >= 3)
      elsewhere.publish(BUS_TOPICS.state(namespace), JSON.stringify(second))
      await watcher.ok({ type: 'state_set', namespace, key: 'k', value: 'v4' })
      await watcher.waitUntil(() => changes(watcher, namespace).length >= 4)
      expect(changes(watcher, namespace).map((change) => [change.version, change.value])).toEqual([
        [1, 'v1'],
        [2, 'v2'],
        [3, 'v3'],
        [4, 'v4'],
      ])
      await elsewhere.close()
    })

    it('a namespace watch starts a key absent from its snapshot after its last deletion', async () => {
      const namespace = fresh()
      await store.set(namespace, 'k', 'old', { by: 'elsewhere' })
      await store.delete(namespace, 'k', { by: 'elsewhere' })
      const watcher = await connect(0)
      expect(await watcher.ok({ type: 'state_watch', namespace })).toEqual({ namespace, entries: [] })
      const elsewhere = network.join(`elsewhere-${randomUUID()}`)
      const announce = async (version: number) => {
        const found = (await store.history(namespace, 'k')).find((kept) => kept.version === version)
        elsewhere.publish(BUS_TOPICS.state(namespace), JSON.stringify({ namespace, key: 'k', ...found }))
      }
      // The deletion's news comes after the snapshot that already shows the key absent: nothing to tell.
      await announce(2)
      await store.set(namespace, 'k', 'v3', { by: 'elsewhere' })
      await store.set(namespace, 'k', 'v4', { by: 'elsewhere' })
      await announce(4)
      await watcher.waitUntil(() => changes(watcher, namespace).length >= 2)
      await watcher.ok({ type: 'state_list', namespace })
      expect(changes(watcher, namespace).map((change) => [change.version, change.value])).toEqual([
        [3, 'v3'],
        [4, 'v4'],
      ])
      await elsewhere.close()
    })

    it('a watcher whose node lost the bus gets the versions written meanwhile once it is back', async () => {
      const namespace = fresh()
      const writer = await connect(0)
      const watcher = await connect(1)
      await watcher.ok({ type: 'state_watch', namespace, key: 'k' })
      await writer.ok({ type: 'state_set', namespace, key: 'k', value: 1 })
      await watcher.waitUntil(() => changes(watcher, namespace).length === 1)
      buses[1]?.setReachable(false)
      try {
        await writer.ok({ type: 'state_set', namespace, key: 'k', value: 2 })
        await writer.ok({ type: 'state_set', namespace, key: 'k', value: 3 })
      } finally {
        buses[1]?.setReachable(true)
      }
      await watcher.waitUntil(() => changes(watcher, namespace).length >= 3)
      expect(changes(watcher, namespace).map((change) => change.value)).toEqual([1, 2, 3])
    })

    it('refuses bad input with typed errors and keeps the connection', async () => {
      const namespace = fresh()
      const client = await connect()
      expect(
        await client.request({ type: 'state_get', namespace: 'bad namespace!', key: 'k' }),
      ).toMatchObject({ type: 'error', code: 'invalid_frame' })
      expect(await client.request({ type: 'state_get', namespace, key: '' })).toMatchObject({
        type: 'error',
        code: 'invalid_frame',
      })
      expect(await client.request({ type: 'state_get', ns: namespace, key: 'k' })).toMatchObject({
        type: 'error',
        code: 'invalid_frame',
      })
      expect(
        await client.request({ type: 'state_set', namespace, key: 'k', value: 1, expectedVersion: -1 }),
      ).toMatchObject({ type: 'error', code: 'invalid_frame' })
      expect(await client.request({ type: 'state_get', namespace, key: 'nul\u0000key' })).toMatchObject({
        type: 'error',
        code: 'bad_request',
      })
      const oversized = await client.request({
        type: 'state_set',
        namespace,
        key: 'big',
        value: 'x'.repeat(LIMITS.maxValueBytes),
      })
      expect(oversized).toMatchObject({ type: 'error', code: 'payload_too_large' })
      // Unknown fields are ignored, as on every frame (the schemas are not strict).
      await client.ok({ type: 'state_set', namespace, key: 'k', value: 1, colour: 'blue' })
      const hostile = {
        sql: "x'); DROP TABLE state_history;--",
        html: '<script>alert(1)</script><img src=x onerror=alert(2)>',
        quote: '"\'`',
      }
      await client.ok({ type: 'state_set', namespace, key: "k'; --<b>", value: hostile })
      expect(await client.ok({ type: 'state_get', namespace, key: "k'; --<b>" })).toMatchObject({
        entry: { key: "k'; --<b>", value: hostile },
      })
      expect(await client.ok({ type: 'state_get', namespace, key: 'big' })).toEqual({ entry: null })
    })

    it('caps watches per connection with rate_limited; a repeated watch is not counted twice', async () => {
      const namespace = fresh()
      const client = await connect()
      for (let index = 0; index < LIMITS.maxWatchesPerConnection; index += 1) {
        await client.ok({ type: 'state_watch', namespace, key: `k${index}` })
      }
      await client.ok({ type: 'state_watch', namespace, key: 'k0' })
      expect(await client.request({ type: 'state_watch', namespace })).toMatchObject({
        type: 'error',
        code: 'rate_limited',
      })
      await client.ok({ type: 'state_unwatch', namespace, key: 'k0' })
      await client.ok({ type: 'state_watch', namespace })
    })
  })
}

describe('shared state limits and policies', () => {
  let node: TestGateway | undefined

  afterEach(async () => {
    await node?.dispose()
    node = undefined
  })

  it('keeps at most state.maxHistoryPerKey versions per key', async () => {
    node = await startTestGateway({ state: { maxHistoryPerKey: 3 } })
    const client = await TestClient.connect(node.started.wsUrl)
    for (let value = 1; value <= 5; value += 1) {
      await client.ok({ type: 'state_set', namespace: 'capped', key: 'k', value })
    }
    const { versions } = StateHistoryResult.parse(
      await client.ok({ type: 'state_history', namespace: 'capped', key: 'k', limit: 10 }),
    )
    expect(versions.map((version) => version.version)).toEqual([5, 4, 3])
    client.close()
  })

  it('needs the subscribe or publish scope on state:<namespace> before any policy', async () => {
    node = await startTestGateway()
    const { token } = await node.tokens.create(
      { name: 'reader', role: 'client', scopes: ['subscribe:state:shared', 'publish:state:mine'] },
      Date.now(),
    )
    const client = await TestClient.connect(node.started.wsUrl, { token })
    await client.ok({ type: 'state_get', namespace: 'shared', key: 'k' })
    await client.ok({ type: 'state_set', namespace: 'mine', key: 'k', value: 1 })
    for (const frame of [
      { type: 'state_set', namespace: 'shared', key: 'k', value: 1 },
      { type: 'state_watch', namespace: 'mine' },
      { type: 'state_history', namespace: 'other', key: 'k' },
    ]) {
      expect(await client.request(frame)).toMatchObject({ type: 'error', code: 'forbidden' })
    }
    client.close()
  })

  it('lets a policy allow shared state by the capability of a registered agent', async () => {
    node = await startTestGateway({ policies: { default: 'deny' } })
    const created = await adminCall(node.started.url, 'POST', '/api/admin/policies', {
      id: 'planners-share-plans',
      effect: 'allow',
      actions: ['subscribe', 'publish'],
      subject: { kind: 'capability', pattern: 'planning' },
      target: { kind: 'channel', pattern: 'state:plans' },
    })
    expect(created.status).toBe(201)
    const planner = await TestClient.connect(node.started.wsUrl, { clientId: 'planner' })
    const other = await TestClient.connect(node.started.wsUrl, { clientId: 'other' })
    try {
      const write = { type: 'state_set', namespace: 'plans', key: 'q3', value: { step: 1 } }
      // Before registering, the connection holds no capability: the default denies.
      expect(await planner.request(write)).toMatchObject({ type: 'error', code: 'policy_denied' })
      await planner.ok({ type: 'agent_register', agentId: 'planner', capabilities: ['planning'] })
      expect(await planner.request(write)).toMatchObject({ type: 'reply', result: { entry: { version: 1 } } })
      await other.ok({ type: 'agent_register', agentId: 'other', capabilities: ['billing'] })
      expect(await other.request({ type: 'state_get', namespace: 'plans', key: 'q3' })).toMatchObject({
        type: 'error',
        code: 'policy_denied',
      })
    } finally {
      planner.close()
      other.close()
    }
  })

  it('answers policy_denied with the rule and audits the denial; other namespaces stay usable', async () => {
    const access: AgentAccess = {
      check: (request) =>
        'channel' in request.target && request.target.channel === 'state:secret'
          ? { allowed: false, code: 'policy_denied', rule: 'rule-secret', message: 'secret is off limits' }
          : { allowed: true, effect: 'allow' },
    }
    node = await startTestGateway({}, { agentAccess: () => access })
    const client = await TestClient.connect(node.started.wsUrl)
    for (const frame of [
      { type: 'state_get', namespace: 'secret', key: 'k' },
      { type: 'state_set', namespace: 'secret', key: 'k', value: 1 },
      { type: 'state_watch', namespace: 'secret' },
    ]) {
      expect(await client.request(frame)).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'rule-secret' },
      })
    }
    await client.ok({ type: 'state_set', namespace: 'open', key: 'k', value: 1 })
    const page = await node.audit?.query({ limit: 50, kind: 'state' })
    const rows = page?.events ?? []
    expect(rows.filter((row) => row.outcome === 'denied')).toHaveLength(3)
    expect(rows.find((row) => row.outcome === 'denied')?.detail).toContain('rule-secret')
    expect(rows.filter((row) => row.outcome === 'ok').map((row) => row.channel)).toEqual(['state:open'])
    client.close()
  })
})
