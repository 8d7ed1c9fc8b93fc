import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidStateEntryError, StateValueTooLargeError, StateVersionConflictError } from '../errors.js'
import { HOSTILE_NAMES, T0 } from '../identity/identity-fixture.js'
import type { StateStore, StateStoreOptions } from './types.js'

export interface StateStoreFixture {
  /** A store on the fixture's (empty) storage. */
  createStore(options?: StateStoreOptions): StateStore
  teardown(): Promise<void>
}

/**
 * Read-modify-write of a counter with compare-and-set, retried on conflicts, as an agent would do it.
 * Resolves the number of conflicts it met.
 */
export async function incrementWithRetries(
  state: StateStore,
  namespace: string,
  key: string,
  by: string,
): Promise<number> {
  for (let conflicts = 0; conflicts < 1_000; conflicts++) {
    const entry = await state.get(namespace, key)
    const count = typeof entry?.value === 'number' ? entry.value : 0
    try {
      await state.set(namespace, key, count + 1, { expectedVersion: entry?.version ?? 0, by })
      return conflicts
    } catch (error) {
      if (!(error instanceof StateVersionConflictError)) throw error
    }
  }
  throw new Error(`${by} met 1,000 conflicts in a row`)
}

/** The behaviour every StateStore must show. */
export function describeStateStoreBehaviour(label: string, setup: () => Promise<StateStoreFixture>): void {
  describe(`StateStore behaviour: ${label}`, () => {
    let fixture: StateStoreFixture
    let state: StateStore

    beforeEach(async () => {
      fixture = await setup()
      state = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('returns undefined for an unknown key, and the value with version 1, time and author after a first set', async () => {
      expect(await state.get('team', 'plan')).toBeUndefined()
      const entry = await state.set(
        'team',
        'plan',
        { steps: ['a', 'b'], done: false },
        { by: 'planner', now: T0 },
      )
      expect(entry).toEqual({
        key: 'plan',
        value: { steps: ['a', 'b'], done: false },
        version: 1,
        updatedAt: T0,
        updatedBy: 'planner',
      })
      expect(await state.get('team', 'plan')).toEqual(entry)
      expect(await state.get('other-team', 'plan')).toBeUndefined()
    })

    it('increases the version by one on every write and returns a fresh copy on every read', async () => {
      await state.set('team', 'count', 1, { by: 'a', now: T0 })
      const second = await state.set('team', 'count', 2, { by: 'b', now: T0 + 1 })
      expect(second).toMatchObject({ value: 2, version: 2, updatedBy: 'b', updatedAt: T0 + 1 })
      const object = await state.set('team', 'doc', { nested: { list: [1] } }, { by: 'a', now: T0 })
      const read = (await state.get('team', 'doc'))?.value as { nested: { list: number[] } } | undefined
      read?.nested.list.push(2)
      expect((await state.get('team', 'doc'))?.value).toEqual(object.value)
    })

    it('writes only at the expected version and otherwise throws StateVersionConflictError with the current version', async () => {
      await state.set('team', 'plan', 'v1', { by: 'a', expectedVersion: 0, now: T0 })
      await state.set('team', 'plan', 'v2', { by: 'a', expectedVersion: 1, now: T0 + 1 })
      const stale = await state
        .set('team', 'plan', 'lost', { by: 'b', expectedVersion: 1 })
        .catch((error: unknown) => error)
      expect(stale).toBeInstanceOf(StateVersionConflictError)
      expect(stale).toMatchObject({
        code: 'conflict',
        namespace: 'team',
        key: 'plan',
        expectedVersion: 1,
        currentVersion: 2,
      })
      const ahead = await state
        .set('team', 'plan', 'lost', { by: 'b', expectedVersion: 7 })
        .catch((error: unknown) => error)
      expect(ahead).toMatchObject({
        name: 'StateVersionConflictError',
        expectedVersion: 7,
        currentVersion: 2,
      })
      expect(await state.get('team', 'plan')).toMatchObject({ value: 'v2', version: 2, updatedBy: 'a' })
      expect(await state.history('team', 'plan')).toHaveLength(2)
    })

    it('treats expectedVersion 0 as "must not exist": it creates a new key and refuses an existing one', async () => {
      await state.set('team', 'lock', 'holder-a', { by: 'a', expectedVersion: 0, now: T0 })
      const second = await state
        .set('team', 'lock', 'holder-b', { by: 'b', expectedVersion: 0 })
        .catch((error: unknown) => error)
      expect(second).toBeInstanceOf(StateVersionConflictError)
      expect(second).toMatchObject({ expectedVersion: 0, currentVersion: 1 })
      const missing = await state
        .set('team', 'absent', 'x', { by: 'b', expectedVersion: 1 })
        .catch((error: unknown) => error)
      expect(missing).toMatchObject({
        name: 'StateVersionConflictError',
        expectedVersion: 1,
        currentVersion: 0,
      })
      expect(await state.get('team', 'lock')).toMatchObject({ value: 'holder-a', version: 1 })
      expect(await state.get('team', 'absent')).toBeUndefined()
    })

    it('lets exactly one of concurrent "must not exist" writes of a key win', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, index) =>
          state.set('team', 'leader', `node-${index}`, { by: `node-${index}`, expectedVersion: 0 }),
        ),
      )
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled')
      expect(winners).toHaveLength(1)
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StateVersionConflictError)
      }
      expect(await state.get('team', 'leader')).toMatchObject({ version: 1 })
    })

    it('loses no update of 20 concurrent read-modify-write writers that retry on conflicts', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          incrementWithRetries(state, 'team', 'counter', `writer-${index}`),
        ),
      )
      expect(await state.get('team', 'counter')).toMatchObject({ value: 20, version: 20 })
      const history = await state.history('team', 'counter')
      expect(history.map((version) => version.value)).toEqual(
        Array.from({ length: 20 }, (_, index) => 20 - index),
      )
      expect(new Set(history.map((version) => version.updatedBy)).size).toBe(20)
    })

    it('deletes a key as a new version: absent afterwards, and written again its versions go on', async () => {
      await state.set('team', 'plan', 'v1', { by: 'a', now: T0 })
      await state.set('team', 'plan', 'v2', { by: 'a', now: T0 + 1 })
      expect(await state.delete('team', 'plan', { by: 'admin', now: T0 + 2 })).toBe(true)
      expect(await state.get('team', 'plan')).toBeUndefined()
      expect(await state.list('team')).toEqual([])
      expect(await state.delete('team', 'plan', { by: 'admin' })).toBe(false)
      expect(await state.delete('team', 'never', { by: 'admin' })).toBe(false)
      // The old version 2 must not match the key's new life.
      await expect(state.set('team', 'plan', 'stale', { by: 'b', expectedVersion: 2 })).rejects.toMatchObject(
        {
          name: 'StateVersionConflictError',
          currentVersion: 0,
        },
      )
      const reborn = await state.set('team', 'plan', 'v4', { by: 'b', expectedVersion: 0, now: T0 + 3 })
      expect(reborn.version).toBe(4)
      expect(await state.history('team', 'plan')).toEqual([
        { version: 4, value: 'v4', deleted: false, updatedAt: T0 + 3, updatedBy: 'b' },
        { version: 3, value: null, deleted: true, updatedAt: T0 + 2, updatedBy: 'admin' },
        { version: 2, value: 'v2', deleted: false, updatedAt: T0 + 1, updatedBy: 'a' },
        { version: 1, value: 'v1', deleted: false, updatedAt: T0, updatedBy: 'a' },
      ])
    })

    it('deletes at the expected version only, and treats expectedVersion 0 on an absent key as nothing to delete', async () => {
      await state.set('team', 'plan', 'v1', { by: 'a' })
      await state.set('team', 'plan', 'v2', { by: 'a' })
      await expect(state.delete('team', 'plan', { by: 'b', expectedVersion: 1 })).rejects.toMatchObject({
        name: 'StateVersionConflictError',
        expectedVersion: 1,
        currentVersion: 2,
      })
      await expect(state.delete('team', 'plan', { by: 'b', expectedVersion: 0 })).rejects.toBeInstanceOf(
        StateVersionConflictError,
      )
      expect(await state.get('team', 'plan')).toMatchObject({ value: 'v2' })
      expect(await state.delete('team', 'plan', { by: 'b', expectedVersion: 2 })).toBe(true)
      expect(await state.delete('team', 'plan', { by: 'b', expectedVersion: 0 })).toBe(false)
      await expect(state.delete('team', 'plan', { by: 'b', expectedVersion: 3 })).rejects.toMatchObject({
        currentVersion: 0,
      })
    })

    it('lists the live keys of one namespace in byte order, in pages', async () => {
      const keys = ['b', 'a', 'B', 'a/b', '\u{1F600}', '\uFF21', 'é', 'a b']
      for (const key of keys) await state.set('ns', key, key, { by: 'a' })
      await state.set('other', 'zz', 1, { by: 'a' })
      await state.set('ns', 'gone', 1, { by: 'a' })
      await state.delete('ns', 'gone', { by: 'a' })
      const byteOrder = ['B', 'a', 'a b', 'a/b', 'b', 'é', '\uFF21', '\u{1F600}']
      const listed = await state.list('ns')
      expect(listed.map((entry) => entry.key)).toEqual(byteOrder)
      expect(listed[0]).toMatchObject({ key: 'B', value: 'B', version: 1, updatedBy: 'a' })
      const first = await state.list('ns', { limit: 3 })
      const second = await state.list('ns', { limit: 3, after: first.at(-1)?.key })
      const third = await state.list('ns', { limit: 3, after: second.at(-1)?.key })
      expect([...first, ...second, ...third].map((entry) => entry.key)).toEqual(byteOrder)
      expect(await state.list('empty')).toEqual([])
    })

    it('keeps every version newest first, bounded by maxHistoryPerKey, and honours a smaller limit', async () => {
      const capped = fixture.createStore({ maxHistoryPerKey: 5 })
      for (let index = 1; index <= 12; index++)
        await capped.set('team', 'log', index, { by: `w${index}`, now: T0 + index })
      await capped.set('team', 'other', 'x', { by: 'a' })
      const history = await capped.history('team', 'log')
      expect(history.map((version) => version.version)).toEqual([12, 11, 10, 9, 8])
      expect(history[0]).toEqual({
        version: 12,
        value: 12,
        deleted: false,
        updatedAt: T0 + 12,
        updatedBy: 'w12',
      })
      expect((await capped.history('team', 'log', { limit: 2 })).map((version) => version.value)).toEqual([
        12, 11,
      ])
      expect(await capped.history('team', 'log', { limit: 50 })).toHaveLength(5)
      expect(await capped.get('team', 'log')).toMatchObject({ value: 12, version: 12 })
      expect(await capped.history('team', 'never')).toEqual([])
    })

    it('stores strings that look like SQL or HTML verbatim, in namespaces, keys, authors and values', async () => {
      for (const text of [...HOSTILE_NAMES, "'); DROP TABLE state_entries;--", 'nul \u0000 inside a value']) {
        const name = text.replaceAll('\u0000', '')
        const value = { text, list: [text], [name]: name }
        const entry = await state.set(name, name, value, { by: name, now: T0 })
        expect(entry).toEqual({ key: name, value, version: 1, updatedAt: T0, updatedBy: name })
        expect(await state.get(name, name)).toEqual(entry)
        expect(await state.list(name)).toEqual([entry])
        expect((await state.history(name, name))[0]?.value).toEqual(value)
      }
    })

    it('round-trips JSON values of every kind, as JSON.stringify writes them', async () => {
      const values = [
        null,
        true,
        false,
        0,
        -1.5,
        1e300,
        '',
        'text',
        [],
        [1, 'two', null],
        {},
        { a: { b: [{ c: null }] } },
      ]
      for (const [index, value] of values.entries()) {
        await state.set('json', `k${index}`, value, { by: 'a' })
        expect((await state.get('json', `k${index}`))?.value).toEqual(value)
      }
      await state.set('json', 'lossy', { kept: 1, dropped: undefined, nan: Number.NaN }, { by: 'a' })
      expect((await state.get('json', 'lossy'))?.value).toEqual({ kept: 1, nan: null })
    })

    it('refuses bad input with typed errors and writes nothing', async () => {
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const invalid: [string, () => Promise<unknown>][] = [
        ['namespace', () => state.set('', 'k', 1, { by: 'a' })],
        ['key', () => state.set('ns', '', 1, { by: 'a' })],
        ['key', () => state.set('ns', 'a\u0000b', 1, { by: 'a' })],
        ['key', () => state.set('ns', 'x'.repeat(513), 1, { by: 'a' })],
        ['key', () => state.set('ns', 'lone \uD800 surrogate', 1, { by: 'a' })],
        ['by', () => state.set('ns', 'k', 1, { by: '' })],
        ['value', () => state.set('ns', 'k', undefined, { by: 'a' })],
        ['value', () => state.set('ns', 'k', () => 1, { by: 'a' })],
        ['value', () => state.set('ns', 'k', 10n, { by: 'a' })],
        ['value', () => state.set('ns', 'k', cyclic, { by: 'a' })],
        ['expectedVersion', () => state.set('ns', 'k', 1, { by: 'a', expectedVersion: -1 })],
        ['expectedVersion', () => state.set('ns', 'k', 1, { by: 'a', expectedVersion: 1.5 })],
        ['limit', () => state.list('ns', { limit: 0 })],
        ['limit', () => state.history('ns', 'k', { limit: -1 })],
      ]
      for (const [field, attempt] of invalid) {
        const error = await attempt().catch((caught: unknown) => caught)
        expect(error, field).toBeInstanceOf(InvalidStateEntryError)
        expect(error, field).toMatchObject({ code: 'bad_request', field })
      }
      expect(await state.list('ns')).toEqual([])
      expect(await state.history('ns', 'k')).toEqual([])
      const small = fixture.createStore({ maxValueBytes: 16 })
      const tooLarge = await small
        .set('ns', 'k', 'x'.repeat(20), { by: 'a' })
        .catch((caught: unknown) => caught)
      expect(tooLarge).toBeInstanceOf(StateValueTooLargeError)
      expect(tooLarge).toMatchObject({ code: 'payload_too_large', size: 22, limit: 16 })
      expect(await small.list('ns')).toEqual([])
      expect(await small.set('ns', 'k', 'x'.repeat(14), { by: 'a' })).toMatchObject({ version: 1 })
    })
  })
}
