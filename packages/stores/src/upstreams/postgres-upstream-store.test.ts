import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { T0 } from '../identity/identity-fixture.js'
import { upstreams } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { createPostgresUpstreamStore } from './postgres-upstream-store.js'
import { describeUpstreamStoreBehaviour } from './upstream-store.behaviour.js'

for (const target of databaseTargets()) {
  describe(`Postgres upstream store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table upstreams, upstream_versions`)
    }

    describeUpstreamStoreBehaviour(target.label, async () => {
      await reset()
      return { createStore: () => createPostgresUpstreamStore(suite.database), teardown: reset }
    })

    it('keeps each upstream in one row, its credentials only as the sealed text it was given', async () => {
      await reset()
      const store = createPostgresUpstreamStore(suite.database)
      await store.create(
        {
          kind: 'mcp',
          id: 'files',
          urls: ['http://m.example/mcp'],
          credentials: { sealed: 'v1.abc', kind: 'header' },
        },
        T0,
      )
      expect(await suite.database.db.select().from(upstreams)).toEqual([
        {
          kind: 'mcp',
          id: 'files',
          urls: ['http://m.example/mcp'],
          credentials: 'v1.abc',
          credentialsKind: 'header',
          settings: {},
          createdAt: T0,
          updatedAt: T0,
        },
      ])
    })

    it('lets a second node see each change, and never loses a concurrent version bump', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createPostgresUpstreamStore(suite.database)
        const nodeB = createPostgresUpstreamStore(second)
        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? nodeA : nodeB).create(
              { kind: 'a2a', id: `agent-${index}`, urls: [`http://a${index}.example/`] },
              T0 + index,
            ),
          ),
        )
        expect(await nodeB.version()).toBe(10)
        expect(await nodeA.list()).toEqual(await nodeB.list())
        expect(await nodeA.list()).toHaveLength(10)
      })
    })
  })
}
