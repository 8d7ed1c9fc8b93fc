import { sql } from 'drizzle-orm'
import { describe } from 'vitest'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { describeCaptureStoreBehaviour } from './capture-store.behaviour.js'
import { createPostgresCaptureStore } from './postgres-capture-store.js'

for (const target of databaseTargets()) {
  describe(`Postgres capture store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)
    const reset = async () => {
      await suite.database.db.execute(sql`truncate table exchange_captures`)
    }
    describeCaptureStoreBehaviour(target.label, async () => {
      await reset()
      return { store: createPostgresCaptureStore(suite.database), teardown: reset }
    })
  })
}
