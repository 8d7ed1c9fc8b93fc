import { openDatabase, type ParleyDatabase } from '@parley/stores'
import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FaultMode, type FaultProxy, startFaultProxy, throughProxy } from '../support/fault-proxy.js'

/**
 * The `postgres` driver under the gateway's database, when the server goes away in the middle of a
 * transaction. The driver used to write the transaction's ROLLBACK to the closed connection from a
 * `setImmediate` callback and crash the process (`TypeError: Cannot read properties of null (reading
 * 'write')` in `nextWrite`): the fix is a patch of the driver (patches/postgres@3.4.9.patch). Vitest fails
 * a run in which any uncaught exception happens, so this file failing without the patch is the crash.
 */

const serverUrl = testServerUrl()
const SKIP_REASON =
  'skipped: needs DATABASE_URL, a real PostgreSQL server behind a TCP proxy the test controls'

describe.skipIf(serverUrl === undefined)(
  serverUrl === undefined ? `postgres connection loss (${SKIP_REASON})` : 'postgres connection loss',
  () => {
    let testDatabase: TestDatabase
    let proxy: FaultProxy
    let database: ParleyDatabase

    beforeAll(async () => {
      testDatabase = await createTestDatabase('postgres', serverUrl)
      proxy = await startFaultProxy(Number(new URL(serverUrl as string).port || 5432))
      database = await openDatabase({ url: throughProxy(testDatabase.url as string, proxy) })
    })

    afterAll(async () => {
      await database?.close()
      await proxy?.close()
      await testDatabase?.drop()
    })

    for (const mode of ['close', 'reset'] as const satisfies FaultMode[]) {
      it(`fails the transactions in flight when the server ${mode === 'close' ? 'closes' : 'resets'} their connections, and serves again once it is back`, async () => {
        let started = 0
        let allStarted: () => void = () => {}
        const inFlight = new Promise<void>((resolve) => {
          allStarted = resolve
        })
        const transactions = Array.from({ length: 4 }, (_, index) =>
          database.db.transaction(async (tx) => {
            await tx.execute(sql`select ${index}::int`)
            started += 1
            if (started === 4) allStarted()
            // Still running when the connection goes: the driver then rolls back on a dead connection.
            await tx.execute(sql`select pg_sleep(30)`)
            await tx.execute(sql`select 1`)
          }),
        )
        await inFlight
        proxy.setMode(mode)
        const outcomes = await Promise.allSettled(transactions)
        expect(outcomes.map((outcome) => outcome.status)).toEqual([
          'rejected',
          'rejected',
          'rejected',
          'rejected',
        ])
        proxy.setMode('pass')
        // The postgres-js driver answers with the rows themselves.
        const rows = (await database.db.execute(sql`select 42::int as answer`)) as unknown as {
          answer: number
        }[]
        expect(rows[0]?.answer).toBe(42)
      })
    }
  },
)
