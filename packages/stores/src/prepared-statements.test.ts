import { type SQL, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type ParleyDatabase, type ParleyExecutor } from './database.js'
import { resultRows } from './delivery/postgres-rows.js'
import { MAX_PREPARED_PARAMETERS } from './prepared-statements.js'
import { databaseTargets, type TestDatabase } from './testing.js'

/** The statements this session has prepared whose text contains `marker`. */
async function preparedWith(executor: ParleyExecutor, marker: string): Promise<string[]> {
  const rows = resultRows<{ statement: string }>(
    await executor.execute(
      sql`select statement from pg_prepared_statements where statement like ${`%${marker}%`}`,
    ),
  )
  // The lookup itself is prepared (it has a parameter) and holds the marker: leave it out.
  return rows.map((row) => row.statement).filter((statement) => !statement.includes('pg_prepared_statements'))
}

/** `select $1, …, $count as <marker>`: a statement with `count` parameters. */
function selectWith(count: number, marker: string): SQL {
  const values = Array.from({ length: count }, (_, index) => sql`${index}::int`)
  return sql`select ${count === 0 ? sql`1` : sql.join(values, sql`, `)} as ${sql.raw(marker)}`
}

// The driver behind drizzle is the `postgres` one for a server and for the embedded database in a data folder
// (in-memory PGlite has its own driver, which prepares nothing).
const targets = databaseTargets({ includeDataDir: true }).filter((target) => target.kind !== 'pglite-memory')

describe.each(targets)('prepared statements ($label)', (target) => {
  let testDatabase: TestDatabase
  let database: ParleyDatabase
  beforeAll(async () => {
    testDatabase = await target.create()
    // One connection, so the session asked about is the one that ran the statements.
    database = await openDatabase({ url: testDatabase.url, dataDir: testDatabase.dataDir, maxConnections: 1 })
  })
  afterAll(async () => {
    await database?.close()
    await testDatabase?.drop()
  })

  it('prepares a statement with parameters, outside and inside a transaction and a savepoint', async () => {
    await database.db.execute(selectWith(1, 'marker_plain'))
    expect(await preparedWith(database.db, 'marker_plain')).toHaveLength(1)
    await database.db.transaction(async (tx) => {
      await tx.execute(selectWith(2, 'marker_in_transaction'))
      expect(await preparedWith(tx, 'marker_in_transaction')).toHaveLength(1)
      await tx.transaction(async (savepoint) => {
        await savepoint.execute(selectWith(3, 'marker_in_savepoint'))
        expect(await preparedWith(savepoint, 'marker_in_savepoint')).toHaveLength(1)
      })
    })
  })

  it(`leaves unprepared a statement without parameters or with more than ${MAX_PREPARED_PARAMETERS}`, async () => {
    await database.db.execute(selectWith(0, 'marker_no_parameter'))
    await database.db.execute(selectWith(MAX_PREPARED_PARAMETERS + 1, 'marker_many_parameters'))
    await database.db.execute(selectWith(MAX_PREPARED_PARAMETERS, 'marker_most_parameters'))
    expect(await preparedWith(database.db, 'marker_no_parameter')).toEqual([])
    expect(await preparedWith(database.db, 'marker_many_parameters')).toEqual([])
    expect(await preparedWith(database.db, 'marker_most_parameters')).toHaveLength(1)
  })

  it('prepares nothing when told not to (a pooler that cannot keep prepared statements)', async () => {
    // The embedded database has one owner: the suite's handle makes way for this one, then comes back.
    await database.close()
    const unprepared = await openDatabase({
      url: testDatabase.url,
      dataDir: testDatabase.dataDir,
      maxConnections: 1,
      preparedStatements: false,
    })
    try {
      await unprepared.db.execute(selectWith(1, 'marker_told_not_to'))
      expect(await preparedWith(unprepared.db, 'marker_told_not_to')).toEqual([])
    } finally {
      await unprepared.close()
      database = await openDatabase({
        url: testDatabase.url,
        dataDir: testDatabase.dataDir,
        maxConnections: 1,
      })
    }
  })

  it('gives the same results prepared: a value of each kind read back after the statement is reused', async () => {
    for (const text of ['plain', `it's "quoted"`, 'emoji 🚀', '']) {
      const [row] = resultRows<{ text: string; doubled: number; document: { text: string } }>(
        await database.db.execute(
          sql`select ${text}::text as text, ${21}::int * 2 as doubled, ${JSON.stringify({ text })}::jsonb as document`,
        ),
      )
      expect(row).toEqual({ text, doubled: 42, document: { text } })
    }
  })
})
