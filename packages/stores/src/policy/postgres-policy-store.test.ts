import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { policyRules } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { describePolicyStoreBehaviour } from './policy-store.behaviour.js'
import { createPostgresPolicyStore } from './postgres-policy-store.js'

for (const target of databaseTargets()) {
  describe(`Postgres policy store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table policy_rules, policy_settings`)
    }

    describePolicyStoreBehaviour(target.label, async () => {
      await reset()
      return { createStore: (options) => createPostgresPolicyStore(suite.database, options), teardown: reset }
    })

    it('keeps each rule in one row with its fields in their own columns', async () => {
      await reset()
      const policies = createPostgresPolicyStore(suite.database)
      const rule = await policies.create(
        {
          effect: 'deny',
          actions: ['stream', 'publish'],
          subject: { kind: 'role', pattern: 'client' },
          target: { kind: 'channel', pattern: 'ops.*' },
          priority: 7,
        },
        T0,
      )
      const rows = await suite.database.db.select().from(policyRules)
      expect(rows).toEqual([
        {
          id: rule.id,
          description: null,
          effect: 'deny',
          actions: ['stream', 'publish'],
          subjectKind: 'role',
          subjectPattern: 'client',
          targetKind: 'channel',
          targetPattern: 'ops.*',
          priority: 7,
          createdAt: T0,
          updatedAt: T0,
        },
      ])
    })

    it('lets a second node see each change as a higher version, and never lose a concurrent bump', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createPostgresPolicyStore(suite.database)
        const nodeB = createPostgresPolicyStore(second)
        const seen = await nodeB.version()
        await nodeA.setDefault('allow', T0)
        expect(await nodeB.version()).toBeGreaterThan(seen)
        expect(await nodeB.getDefault()).toBe('allow')
        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? nodeA : nodeB).create(
              {
                id: `r${index}`,
                effect: 'allow',
                actions: ['message'],
                subject: { kind: 'principal', pattern: `agent-${index}` },
                target: { kind: 'principal', pattern: '*' },
              },
              T0 + index,
            ),
          ),
        )
        const snapshot = await nodeB.snapshot()
        expect(snapshot.version).toBe(11)
        expect(snapshot.rules).toHaveLength(10)
        expect(await nodeA.snapshot()).toEqual(snapshot)
      })
    })
  })
}
