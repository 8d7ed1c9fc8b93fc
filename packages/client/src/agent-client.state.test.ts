import { describe, expect, it } from 'vitest'
import type { StateChangeEvent } from './agent-state.js'
import { VersionConflictError } from './errors.js'
import { useAgentFixtures, waitUntil } from './test-support/agent-gateway.js'

const fixtures = useAgentFixtures()

async function connected() {
  const gateway = await fixtures.gateway()
  const client = fixtures.agent(gateway.server.url, { agentId: 'planner', capabilities: [] })
  await client.connect()
  return { gateway, client, state: client.sharedState }
}

describe('shared state', () => {
  it('gets, sets, lists, reads history and deletes', async () => {
    const { state } = await connected()
    expect(await state.get('trip-42', 'plan')).toBeNull()
    const first = await state.set('trip-42', 'plan', { step: 1 })
    const second = await state.set('trip-42', 'plan', { step: 2 }, { expectedVersion: 1 })
    await state.set('trip-42', 'budget', 100)

    expect(first).toMatchObject({
      namespace: 'trip-42',
      key: 'plan',
      value: { step: 1 },
      version: 1,
      updatedBy: 'planner',
    })
    expect(second.version).toBe(2)
    expect(await state.get('trip-42', 'plan')).toMatchObject({ value: { step: 2 }, version: 2 })
    expect((await state.list('trip-42')).map((entry) => entry.key).sort()).toEqual(['budget', 'plan'])
    expect((await state.history('trip-42', 'plan')).map((version) => version.version)).toEqual([2, 1])
    expect(await state.delete('trip-42', 'plan', { expectedVersion: 2 })).toEqual({
      deleted: true,
      version: 3,
    })
    expect(await state.get('trip-42', 'plan')).toBeNull()
  })

  it('rejects a compare-and-set mismatch with VersionConflictError carrying currentVersion', async () => {
    const { state } = await connected()
    await state.set('ns', 'k', 'a')
    await state.set('ns', 'k', 'b')

    const stale = await state.set('ns', 'k', 'c', { expectedVersion: 1 }).catch((caught: unknown) => caught)
    expect(stale).toBeInstanceOf(VersionConflictError)
    expect(stale).toMatchObject({ code: 'version_conflict', currentVersion: 2 })

    const mustNotExist = await state
      .set('ns', 'k', 'd', { expectedVersion: 0 })
      .catch((caught: unknown) => caught)
    expect(mustNotExist).toMatchObject({ currentVersion: 2 })
  })

  it('update() retries on version conflicts with the fresh value, and gives up after `retries`', async () => {
    const { gateway, state } = await connected()
    await state.set('ns', 'counter', 1)
    gateway.forcedConflicts = 2
    const seen: Array<number | undefined> = []

    const entry = await state.update<number>('ns', 'counter', (current) => {
      seen.push(current)
      return (current ?? 0) + 1
    })

    expect(entry).toMatchObject({ value: 2, version: 2 })
    expect(seen).toEqual([1, 1, 1])
    gateway.forcedConflicts = 10
    await expect(
      state.update<number>('ns', 'counter', (n) => (n ?? 0) + 1, { retries: 2 }),
    ).rejects.toBeInstanceOf(VersionConflictError)
  })

  it('update() creates a missing key with expectedVersion 0', async () => {
    const { gateway, state } = await connected()
    await state.update<string[]>('ns', 'list', (current) => [...(current ?? []), 'a'])
    const set = gateway.registrations[0]?.connection.frames.find((frame) => frame.type === 'state_set')
    expect(set).toMatchObject({ key: 'list', value: ['a'], expectedVersion: 0 })
  })

  it('watch delivers the current value then each change, and stops after unwatch', async () => {
    const { gateway, state } = await connected()
    await state.set('trip', 'plan', 'v1')
    const changes: StateChangeEvent[] = []
    const unwatch = await state.watch('trip', 'plan', (change) => {
      changes.push(change)
    })
    gateway.write('trip', 'plan', 'v2', false, 'other')
    gateway.write('trip', 'plan', null, true, 'other')
    await waitUntil(() => changes.length === 3, 2_000, 'three changes')
    expect(changes.map(({ version, value, deleted }) => ({ version, value, deleted }))).toEqual([
      { version: 1, value: 'v1', deleted: false },
      { version: 2, value: 'v2', deleted: false },
      { version: 3, value: null, deleted: true },
    ])

    await unwatch()
    const connection = gateway.registrations[0]?.connection
    expect(connection?.frames.find((frame) => frame.type === 'state_unwatch')).toMatchObject({
      namespace: 'trip',
      key: 'plan',
    })
    expect(state.watched).toEqual([])
  })

  it('re-watches after a reconnect and delivers what changed meanwhile, without repeating a version', async () => {
    const { gateway, client, state } = await connected()
    const changes: StateChangeEvent[] = []
    await state.watch('trip', undefined, (change) => {
      changes.push(change)
    })
    gateway.write('trip', 'plan', 'v1', false, 'other')
    // Unchanged while the client is away: the re-watch's entries carry it again, and it must not repeat.
    gateway.write('trip', 'notes', 'n1', false, 'other')
    await waitUntil(() => changes.length === 2, 2_000, 'the first changes')

    const reconnected = new Promise<void>((resolve) => client.on('connect', () => resolve()))
    gateway.server.dropAll()
    // Written while the client is away: the re-watch's entries bring it.
    gateway.write('trip', 'plan', 'v2', false, 'other')
    gateway.write('trip', 'budget', 10, false, 'other')
    await reconnected

    const watches = gateway.registrations[1]?.connection.frames.filter(
      (frame) => frame.type === 'state_watch',
    )
    expect(watches).toEqual([expect.objectContaining({ namespace: 'trip' })])
    gateway.write('trip', 'plan', 'v3', false, 'other')
    await waitUntil(
      () => changes.some((change) => change.version === 3),
      2_000,
      'the change after the reconnect',
    )
    expect(changes.map(({ key, version }) => `${key}@${version}`)).toEqual([
      'plan@1',
      'notes@1',
      'plan@2',
      'budget@1',
      'plan@3',
    ])
  })

  it('changes() reads a watch with for-await and unwatches when the loop is left', async () => {
    const { gateway, state } = await connected()
    await state.set('trip', 'plan', 'v1')
    const changes = await state.changes('trip', 'plan')
    gateway.write('trip', 'plan', 'v2', false, 'other')
    const seen: unknown[] = []
    for await (const change of changes) {
      seen.push(change.value)
      if (change.version === 2) break
    }
    expect(seen).toEqual(['v1', 'v2'])
    await waitUntil(() => state.watched.length === 0, 2_000, 'the unwatch')
    const unwatched = gateway.registrations[0]?.connection.frames.find(
      (frame) => frame.type === 'state_unwatch',
    )
    expect(unwatched).toMatchObject({ namespace: 'trip', key: 'plan' })
  })
})
