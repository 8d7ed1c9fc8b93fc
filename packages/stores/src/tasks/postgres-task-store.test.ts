import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { a2aTaskEvents, a2aTaskPushConfigs } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { createPostgresTaskStore } from './postgres-task-store.js'
import { describeTaskStoreBehaviour } from './task-store.behaviour.js'
import { artifactEvent, concurrentAppends, OWNER, statusEvent, taskInput } from './task-store.fixture.js'
import type { TaskStoreOptions } from './types.js'

const secretKey = randomBytes(32)

for (const target of databaseTargets({ includeDataDir: true })) {
  describe(`Postgres task store on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)
    const createStore = (options: TaskStoreOptions = {}) =>
      createPostgresTaskStore(suite.database, { secretKey, ...options })

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table a2a_tasks, a2a_task_events, a2a_task_push_configs`)
    }

    describeTaskStoreBehaviour(target.label, async () => {
      await reset()
      return { createStore, teardown: reset }
    })

    it('refuses to start without a secretKey for the push secrets', () => {
      expect(() => createPostgresTaskStore(suite.database)).toThrow(/secretKey/)
      expect(() => createPostgresTaskStore(suite.database, { secretKey: randomBytes(16) })).toThrow(
        /32 bytes/,
      )
    })

    it('stores push tokens and credentials only as ciphertext that another row cannot open', async () => {
      await reset()
      const tasks = createStore()
      await tasks.create(taskInput('t-1'))
      await tasks.create(taskInput('t-2'))
      const input = {
        url: 'https://hooks.example.com/a2a',
        token: 'tok-plain-1',
        authentication: { scheme: 'Bearer', credentials: 'cred-plain-1' },
      }
      await tasks.setPushConfig('t-1', { owner: OWNER }, { id: 'hook', ...input })
      await tasks.setPushConfig('t-2', { owner: OWNER }, { id: 'hook', ...input })
      const rows = await suite.database.db.select().from(a2aTaskPushConfigs)
      expect(rows).toHaveLength(2)
      expect(JSON.stringify(rows)).not.toMatch(/plain/)
      for (const row of rows) expect(row.token).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/)
      // Random IVs: the same secret never gives the same ciphertext.
      expect(rows[0]?.token).not.toBe(rows[1]?.token)
      // A ciphertext moved to another task's row does not decrypt (the ids are its additional data).
      await suite.database.db
        .update(a2aTaskPushConfigs)
        .set({ token: rows.find((row) => row.taskId === 't-1')?.token ?? null })
        .where(sql`${a2aTaskPushConfigs.taskId} = 't-2'`)
      await expect(tasks.pushTargets('t-2')).rejects.toMatchObject({ name: 'StoreError', code: 'internal' })
      // Another key opens nothing either.
      await expect(createStore({ secretKey: randomBytes(32) }).pushTargets('t-1')).rejects.toThrow(
        /secretKey/,
      )
      expect((await tasks.pushTargets('t-1'))[0]).toMatchObject({ token: 'tok-plain-1' })
    })

    it('gives 40 concurrent appends spread over two nodes the sequence numbers 1 to 40, each once', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createStore()
        const nodeB = createPostgresTaskStore(second, { secretKey })
        await nodeA.create(taskInput('t-1'))
        const seqs = await concurrentAppends([nodeA, nodeB], 't-1', 40)
        expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
        const rows = await suite.database.db
          .select({ seq: a2aTaskEvents.seq })
          .from(a2aTaskEvents)
          .orderBy(a2aTaskEvents.seq)
        expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
        expect((await nodeB.get('t-1', { owner: OWNER }))?.artifacts).toHaveLength(40)
      })
    })

    // Skipped on in-memory PGlite: its data is gone once closed, there is nothing to reopen.
    it.skipIf(target.kind === 'pglite-memory')(
      'keeps tasks, events and push configs across a reopen of the database',
      async () => {
        await reset()
        const tasks = createStore()
        await tasks.create(taskInput('t-1', { message: { messageId: 'm-1' } }))
        await tasks.appendEvent('t-1', statusEvent('working'))
        await tasks.appendEvent('t-1', artifactEvent('a', ['x']))
        await tasks.setPushConfig(
          't-1',
          { owner: OWNER },
          { id: 'hook', url: 'https://a.example/h', token: 'tok' },
        )
        const before = await tasks.get('t-1', { owner: OWNER })
        const reopened = await suite.reopen()
        const after = createPostgresTaskStore(reopened, { secretKey })
        expect(await after.get('t-1', { owner: OWNER })).toEqual(before)
        expect((await after.events('t-1', { owner: OWNER })).map((event) => event.seq)).toEqual([1, 2, 3])
        expect((await after.pushTargets('t-1'))[0]?.token).toBe('tok')
        expect((await after.appendEvent('t-1', statusEvent('completed'))).event.seq).toBe(4)
      },
    )
  })
}
