import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { grants } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { describeGrantStoreBehaviour } from './grant-store.behaviour.js'
import { createPostgresGrantStore } from './postgres-grant-store.js'

for (const target of databaseTargets()) {
  describe(`Postgres grant store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table grants`)
    }

    describeGrantStoreBehaviour(target.label, async () => {
      await reset()
      return { createStore: () => createPostgresGrantStore(suite.database), teardown: reset }
    })

    it('keeps each grant in one row with both keys, and a second node sees its revocation', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createPostgresGrantStore(suite.database)
        const nodeB = createPostgresGrantStore(second)
        const grant = await nodeA.create(
          {
            from: { principal: 'alice', clientId: 'web-1' },
            to: { principal: 'b', clientId: 'b-1', agentId: 'b' },
          },
          T0,
        )
        const rows = await suite.database.db.select().from(grants)
        expect(rows).toMatchObject([{ id: grant.id, fromKey: 'web-1', toKey: 'b', fromAgentId: null }])
        await nodeB.revoke(grant.id, 'admin', T0 + 1)
        expect(await nodeA.version()).toBe(2)
        expect(await nodeA.liveBetween('web-1', 'b')).toBeUndefined()
      })
    })
  })
}
