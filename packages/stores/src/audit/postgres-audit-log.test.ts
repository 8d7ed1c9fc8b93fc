import { sql } from 'drizzle-orm'
import { describe, expect, it, vi } from 'vitest'
import { openDatabase, type ParleyDatabase } from '../database.js'
import { auditChainHead, auditEvents } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { describeAuditConversationBehaviour } from './audit-conversation.behaviour.js'
import { type AuditLogFixture, describeAuditLogBehaviour } from './audit-log.behaviour.js'
import type { AuditLog, AuditRecord } from './audit-log.js'
import { createPostgresAuditLog, type PostgresAuditLogOptions } from './postgres-audit-log.js'

const row = (detail: string): AuditRecord => ({ kind: 'publish', outcome: 'ok', principal: 'agent', detail })

async function countRows(database: ParleyDatabase): Promise<number> {
  const [result] = await database.db.select({ count: sql<number>`count(*)::int` }).from(auditEvents)
  return result?.count ?? 0
}

/**
 * The database with its audit batches (one transaction each) counted; the first one is held until the test
 * calls `release`.
 */
function holdFirstStatement(database: ParleyDatabase) {
  let statements = 0
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  async function hold(): Promise<void> {
    statements += 1
    if (statements === 1) await held
  }
  const { db } = database
  const counting: ParleyDatabase = {
    ...database,
    db: new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver)
        return async (...args: Parameters<typeof db.transaction>) => {
          await hold()
          return db.transaction(...args)
        }
      },
    }),
  }
  return { counting, statements: () => statements, release: () => release() }
}

for (const target of databaseTargets({ includeDataDir: true })) {
  describe(`Postgres audit log on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    /** A log whose writes are only triggered by the test, unless it asks otherwise. */
    const logs: AuditLog[] = []
    function createLog(options: PostgresAuditLogOptions = {}) {
      const log = createPostgresAuditLog(suite.database, { flushIntervalMs: 60_000, ...options })
      logs.push(log)
      return log
    }
    async function reset(): Promise<void> {
      await Promise.all(logs.splice(0).map((log) => log.close()))
      await suite.database.db.execute(sql`truncate table ${auditEvents}, ${auditChainHead} restart identity`)
    }

    const fixture = async (): Promise<AuditLogFixture> => {
      await reset()
      return { createLog: (options) => createLog(options), teardown: reset }
    }
    describeAuditLogBehaviour(target.label, fixture)
    describeAuditConversationBehaviour(target.label, fixture)

    describe('batching', () => {
      it('writes a full batch without waiting for the timer or a flush', async () => {
        await reset()
        const log = createLog({ batchSize: 5 })
        for (let index = 0; index < 5; index += 1) log.record(row(`row-${index}`))
        await vi.waitFor(async () => expect(await countRows(suite.database)).toBe(5), { timeout: 10_000 })
        expect(log.buffered).toBe(0)
      })

      it('writes a partial batch when the flush interval passes', async () => {
        await reset()
        const log = createLog({ batchSize: 1_000, flushIntervalMs: 10 })
        log.record(row('lonely'))
        await vi.waitFor(async () => expect(await countRows(suite.database)).toBe(1), { timeout: 10_000 })
      })

      it('writes the largest batch, 5,000 rows, as one statement with ids in record order', async () => {
        await reset()
        const log = createLog({ batchSize: 5_000 })
        const time = new Date('2025-03-01T12:00:00.000Z')
        for (let index = 0; index < 5_000; index += 1) {
          log.record({ ...row(`row-${index}`), correlationId: `req_${index}`, latencyMs: index, time })
        }
        await log.flush()
        expect(log.dropped).toBe(0)
        const stored = await suite.database.db
          .select({ id: auditEvents.id, detail: auditEvents.detail, latencyMs: auditEvents.latencyMs })
          .from(auditEvents)
          .orderBy(auditEvents.id)
        expect(stored).toHaveLength(5_000)
        // Rows sharing a time are ordered by id, so a batch must not shuffle them.
        expect(stored.map((event) => event.detail)).toEqual(
          Array.from({ length: 5_000 }, (_, index) => `row-${index}`),
        )
        expect(stored.every((event, index) => event.latencyMs === index)).toBe(true)
      })

      it('leaves rows that arrived during a write for the timer instead of writing them as a batch of their own', async () => {
        await reset()
        const { counting, statements, release } = holdFirstStatement(suite.database)
        const log = createPostgresAuditLog(counting, { batchSize: 5, flushIntervalMs: 50 })
        logs.push(log)
        for (let index = 0; index < 5; index += 1) log.record(row(`full-${index}`))
        await vi.waitFor(() => expect(statements()).toBe(1), { timeout: 10_000 })
        log.record(row('late-1'))
        log.record(row('late-2'))
        release()
        await vi.waitFor(() => expect(log.buffered).toBe(2), { timeout: 10_000 })
        expect(statements()).toBe(1)
        // Still written without a flush(), once the interval has passed.
        await vi.waitFor(async () => expect(await countRows(suite.database)).toBe(7), { timeout: 10_000 })
        expect(statements()).toBe(2)
      })

      it('writes a backlog in statements of up to 5,000 rows, whatever the batchSize', async () => {
        await reset()
        const { counting, statements, release } = holdFirstStatement(suite.database)
        const log = createPostgresAuditLog(counting, { batchSize: 5, flushIntervalMs: 60_000 })
        logs.push(log)
        for (let index = 0; index < 5; index += 1) log.record(row(`first-${index}`))
        await vi.waitFor(() => expect(statements()).toBe(1), { timeout: 10_000 })
        // The backlog that builds up while the first statement is held, in record order: the statements run in
        // the database's process (a server, or embedded PGlite's worker thread), so they take it all at once.
        const backlog = 6_000
        for (let index = 0; index < backlog; index += 1) log.record(row(`backlog-${index}`))
        release()
        await log.flush()
        expect(log.dropped).toBe(0)
        expect(statements()).toBe(1 + 2)
        const stored = await suite.database.db
          .select({ detail: auditEvents.detail })
          .from(auditEvents)
          .orderBy(auditEvents.id)
        expect(stored.map((event) => event.detail)).toEqual([
          ...Array.from({ length: 5 }, (_, index) => `first-${index}`),
          ...Array.from({ length: backlog }, (_, index) => `backlog-${index}`),
        ])
      })

      it('resolves flush() once every row recorded before the call is written', async () => {
        await reset()
        const log = createLog({ batchSize: 2 })
        for (let index = 0; index < 9; index += 1) log.record(row(`before-${index}`))
        const flushed = log.flush()
        log.record(row('after'))
        await flushed
        expect(await countRows(suite.database)).toBeGreaterThanOrEqual(9)
        await log.flush()
        expect(await countRows(suite.database)).toBe(10)
      })
    })

    describe('bounded buffer', () => {
      it('is behind while half of maxBuffer or more waits to be written, and catches up after a write', async () => {
        await reset()
        const log = createLog({ maxBuffer: 10, batchSize: 1_000 })
        for (let index = 0; index < 4; index += 1) log.record(row(`early-${index}`))
        expect(log.behind).toBe(false)
        log.record(row('fifth'))
        expect(log.behind).toBe(true)
        await log.flush()
        expect(log.behind).toBe(false)
        expect(await countRows(suite.database)).toBe(5)
      })

      it('counts rows beyond maxBuffer as dropped and writes the rest', async () => {
        await reset()
        const log = createLog({ maxBuffer: 10, batchSize: 1_000 })
        for (let index = 0; index < 15; index += 1) log.record(row(`row-${index}`))
        expect(log.dropped).toBe(5)
        expect(log.buffered).toBe(10)
        await log.flush()
        expect(await countRows(suite.database)).toBe(10)
        const { events } = await log.query({ limit: 50 })
        expect(events.map((event) => event.detail)).not.toContain('row-10')
      })

      it('counts rows recorded after close() as dropped', async () => {
        await reset()
        const log = createLog()
        await log.close()
        expect(() => log.record(row('late'))).not.toThrow()
        expect(log.dropped).toBe(1)
        expect(await countRows(suite.database)).toBe(0)
      })
    })

    describe('database failures', () => {
      it('retries a failed batch once, then drops it and reports the error without throwing', async () => {
        // A second handle on the same kind of database, closed so that every INSERT fails.
        const broken =
          target.kind === 'postgres'
            ? await openDatabase({ url: suite.testDatabase.url })
            : await openDatabase({ url: 'memory://' })
        await broken.close()
        const errors: unknown[] = []
        const log = createPostgresAuditLog(broken, {
          flushIntervalMs: 1,
          onError: (error) => {
            errors.push(error)
            throw new Error('a throwing onError must not stop the writer')
          },
        })
        expect(() => {
          for (let index = 0; index < 3; index += 1) log.record(row(`row-${index}`))
        }).not.toThrow()
        await log.flush()
        expect(log.dropped).toBe(3)
        expect(errors).toHaveLength(1)
        log.record(row('next'))
        await log.close()
        expect(log.dropped).toBe(4)
        expect(errors).toHaveLength(2)
      })
    })

    if (target.kind !== 'pglite-memory') {
      it('keeps rows across close and reopen of the database', async () => {
        await reset()
        const log = createLog()
        log.record(row('survivor'))
        await log.close()
        await suite.reopen()
        const { events } = await createLog().query({ limit: 10 })
        expect(events.map((event) => event.detail)).toEqual(['survivor'])
      })
    }
  })
}
