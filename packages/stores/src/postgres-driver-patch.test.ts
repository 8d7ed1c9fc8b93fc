import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedDatabase, startEmbeddedDatabase } from './embedded/embedded-database.js'
import { testServerUrl } from './testing.js'

type Client = postgres.Sql<Record<string, postgres.PostgresType>>

interface DriverTarget {
  label: string
  open(): Promise<{ sql: Client; close(): Promise<void> }>
}

const targets: DriverTarget[] = [
  {
    label: 'embedded database',
    async open() {
      const embedded: EmbeddedDatabase = await startEmbeddedDatabase(undefined)
      // `socket` is the driver's custom-socket option (what openDatabase uses), missing from its types.
      const options = { socket: () => embedded.connect(), user: 'postgres', database: 'postgres', max: 1 }
      const sql = postgres(options as postgres.Options<Record<string, postgres.PostgresType>>)
      return { sql, close: () => sql.end({ timeout: 5 }).finally(() => embedded.close()) }
    },
  },
]
const serverUrl = testServerUrl()
if (serverUrl !== undefined) {
  targets.push({
    label: 'PostgreSQL server',
    async open() {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} })
      return { sql, close: () => sql.end({ timeout: 5 }) }
    },
  })
}

// patches/postgres@3.4.9.patch: a transaction's BEGIN written as the statement that fills a connection's
// pipeline (100 statements) was not given its connection (porsager/postgres#1189): the next statement of the
// transaction threw a TypeError outside any promise, which ended the process. Pipelining is the normal case
// since the stores prepare their statements (see prepared-statements.ts).
describe.each(targets)('the postgres driver as patched ($label)', (target) => {
  let client: Awaited<ReturnType<DriverTarget['open']>>
  beforeAll(async () => {
    client = await target.open()
  })
  afterAll(async () => {
    await client?.close()
  })

  it('gives a transaction begun behind a nearly full pipeline its own connection, at every count around the boundary', async () => {
    const { sql } = client
    await sql`select ${0}::int as warm`
    for (let ahead = 97; ahead <= 102; ahead += 1) {
      // Sent now (a query of this driver waits to be awaited otherwise), so the BEGIN queues behind them.
      const statements = Array.from({ length: ahead }, (_, index) =>
        sql`select ${index}::int as warm`.execute(),
      )
      const inside = await sql.begin(async (tx) => {
        const [row] = await tx`select ${ahead}::int as ahead, pg_current_xact_id() is not null as open`
        return row
      })
      expect(inside).toEqual({ ahead, open: true })
      expect(await Promise.all(statements)).toHaveLength(ahead)
      // The connection is back in the pool outside any transaction.
      const [state] = await sql`select pg_current_xact_id_if_assigned() is null as idle, ${1}::int as one`
      expect(state).toEqual({ idle: true, one: 1 })
    }
  })
})
