import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { stateEntries, stateHistory } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { createPostgresStateStore } from './postgres-state-store.js'
import { describeStateStoreBehaviour, incrementWithRetries } from './state-store.behaviour.js'

for (const target of databaseTargets()) {
  describe(`Postgres state store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table state_entries, state_history`)
    }

    describeStateStoreBehaviour(target.label, async () => {
      await reset()
      return { createStore: (options) => createPostgresStateStore(suite.database, options), teardown: reset }
    })

    it('keeps the exact JSON text of a value, with SQL and HTML inside it as plain data', async () => {
      await reset()
      const state = createPostgresStateStore(suite.database)
      const value = {
        html: '<script>alert(1)</script>',
        sql: "x'); DROP TABLE state_history;--",
        nul: 'a\u0000b',
      }
      await state.set('ns', 'k', value, { by: 'agent', now: T0 })
      const [row] = await suite.database.db.select().from(stateEntries)
      expect(row).toEqual({
        namespace: 'ns',
        key: 'k',
        value: JSON.stringify(value),
        version: 1,
        deleted: false,
        updatedAt: T0,
        updatedBy: 'agent',
      })
      expect(await suite.database.db.select().from(stateHistory)).toHaveLength(1)
      expect((await state.get('ns', 'k'))?.value).toEqual(value)
    })

    it('trims the history rows of a key to the cap in the database itself', async () => {
      await reset()
      const state = createPostgresStateStore(suite.database, { maxHistoryPerKey: 3 })
      for (let index = 0; index < 10; index++) await state.set('ns', 'k', index, { by: 'a' })
      await state.delete('ns', 'k', { by: 'a' })
      const rows = await suite.database.db.select({ version: stateHistory.version }).from(stateHistory)
      expect(rows.map((row) => row.version).sort((a, b) => a - b)).toEqual([9, 10, 11])
    })

    it('loses no update of 20 concurrent read-modify-write writers spread over two nodes', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createPostgresStateStore(suite.database)
        const nodeB = createPostgresStateStore(second)
        const conflicts = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            incrementWithRetries(index % 2 === 0 ? nodeA : nodeB, 'team', 'counter', `writer-${index}`),
          ),
        )
        expect(await nodeB.get('team', 'counter')).toMatchObject({ value: 20, version: 20 })
        const history = await nodeA.history('team', 'counter')
        expect(history.map((version) => version.value)).toEqual(
          Array.from({ length: 20 }, (_, index) => 20 - index),
        )
        // The writers really raced: at least one read-modify-write had to retry.
        expect(conflicts.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0)
      })
    })

    // Skipped on in-memory PGlite: its data is gone once closed, there is nothing to reopen.
    it.skipIf(target.kind === 'pglite-memory')('keeps state across a reopen of the database', async () => {
      await reset()
      await createPostgresStateStore(suite.database).set('ns', 'k', { kept: true }, { by: 'a', now: T0 })
      const reopened = await suite.open()
      try {
        expect(await createPostgresStateStore(reopened).get('ns', 'k')).toEqual({
          key: 'k',
          value: { kept: true },
          version: 1,
          updatedAt: T0,
          updatedBy: 'a',
        })
      } finally {
        await reopened.close()
      }
    })
  })
}
