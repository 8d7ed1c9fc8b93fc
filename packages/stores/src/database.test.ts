import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DATA_DIR_LOCK_FILE } from './data-dir-lock.js'
import { createEmbeddedTemplate, openDatabase, type ParleyDatabase, type ParleyExecutor } from './database.js'
import { UnsupportedDatabaseUrlError } from './errors.js'
import { defaultMigrationsFolder, MIGRATION_LOCK_KEY } from './migrate.js'
import { auditEvents } from './schema.js'
import { createTestDatabase, type TestDatabase, testServerUrl } from './testing.js'

// Through the query builder rather than execute(): raw results are shaped differently by each driver.
async function appliedMigrations(database: ParleyDatabase): Promise<number> {
  const [row] = await database.db
    .select({ count: sql<number>`count(*)::int` })
    .from(sql`drizzle.__drizzle_migrations`)
  return row?.count ?? 0
}

async function auditTableExists(database: ParleyDatabase): Promise<boolean> {
  const [row] = await database.db
    .select({ count: sql<number>`count(*)::int` })
    .from(sql`pg_catalog.pg_tables`)
    .where(sql`schemaname = 'public' and tablename = 'audit_events'`)
  return row?.count === 1
}

describe('openDatabase', () => {
  const opened: ParleyDatabase[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('opens in-memory PGlite for memory:// with the schema migrated', async () => {
    const database = await openDatabase({ url: 'memory://' })
    opened.push(database)
    expect(database.kind).toBe('pglite')
    expect(await auditTableExists(database)).toBe(true)
    expect(await appliedMigrations(database)).toBeGreaterThan(0)
  })

  it('runs embedded PGlite off the caller’s event loop: it keeps turning while a long statement runs', async () => {
    const database = await openDatabase({ url: 'memory://' })
    opened.push(database)
    let finished = false
    const statement = database.db
      .execute(sql`select count(*) from generate_series(1, 2000000)`)
      .finally(() => {
        finished = true
      })
    // On the caller's thread the statement would run within one turn: the loop could not count past it.
    let turns = 0
    while (!finished) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      turns += 1
    }
    await statement
    expect(turns).toBeGreaterThan(20)
  })

  it('starts a new data folder as a copy of templateDir, and leaves the template as it was', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parley-db-'))
    try {
      const templateDir = join(root, 'template')
      await createEmbeddedTemplate(templateDir)
      // A mark only a copy of this template can have (initdb would not make it).
      const template = await openDatabase({ dataDir: templateDir })
      await template.db.execute(sql`create table template_mark (id int)`)
      await template.close()

      const copy = await openDatabase({ dataDir: join(root, 'data'), templateDir })
      const [row] = await copy.db
        .select({ count: sql<number>`count(*)::int` })
        .from(sql`pg_catalog.pg_tables`)
        .where(sql`tablename = 'template_mark'`)
      expect(row?.count).toBe(1)
      expect(await appliedMigrations(copy)).toBeGreaterThan(0)
      await copy.close()
      expect(existsSync(join(templateDir, DATA_DIR_LOCK_FILE))).toBe(false)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('creates a missing data folder for embedded PGlite and migrates it only once across reopens', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parley-db-'))
    try {
      const dataDir = join(root, 'nested', 'data')
      const first = await openDatabase({ dataDir })
      expect(first.kind).toBe('pglite')
      expect(existsSync(dataDir)).toBe(true)
      const applied = await appliedMigrations(first)
      await first.close()
      const second = await openDatabase({ dataDir })
      expect(await appliedMigrations(second)).toBe(applied)
      await second.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('runs store statements inside a transaction through the tx handle it is given', async () => {
    const database = await openDatabase({ url: 'memory://' })
    opened.push(database)
    const insertRow = (executor: ParleyExecutor, detail: string) =>
      executor.insert(auditEvents).values({ kind: 'publish', outcome: 'ok', detail })
    await database.db.transaction(async (tx) => {
      await insertRow(tx, 'committed')
    })
    await expect(
      database.db.transaction(async (tx) => {
        await insertRow(tx, 'rolled back')
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    const rows = await database.db.select({ detail: auditEvents.detail }).from(auditEvents)
    expect(rows).toEqual([{ detail: 'committed' }])
  })

  it('refuses an unknown URL scheme with a typed error that hides the password', async () => {
    const attempt = openDatabase({ url: 'mysql://root:hunter2@db/parley' })
    await expect(attempt).rejects.toBeInstanceOf(UnsupportedDatabaseUrlError)
    await expect(attempt).rejects.toThrow(/mysql:\/\/root:\*\*\*@db/)
    await expect(attempt).rejects.not.toThrow(/hunter2/)
  })

  it('finds the committed migrations through the package.json of @parley/stores', () => {
    const folder = defaultMigrationsFolder()
    expect(folder.endsWith(join('packages', 'stores', 'drizzle'))).toBe(true)
    expect(existsSync(join(folder, 'meta', '_journal.json'))).toBe(true)
  })
})

const serverUrl = testServerUrl()
if (serverUrl !== undefined) {
  describe('openDatabase on a Postgres server', () => {
    let testDatabase: TestDatabase
    let url: string

    beforeAll(async () => {
      testDatabase = await createTestDatabase('postgres', serverUrl)
      url = testDatabase.url as string
    })

    afterAll(async () => {
      await testDatabase?.drop()
    })

    it('opens through the postgres driver', async () => {
      const database = await openDatabase({ url })
      try {
        expect(database.kind).toBe('postgres')
        expect(await auditTableExists(database)).toBe(true)
      } finally {
        await database.close()
      }
    })

    it('lets several nodes migrate the same database at once without error', async () => {
      const fresh = await createTestDatabase('postgres', serverUrl)
      try {
        const databases = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url: fresh.url })))
        try {
          const counts = await Promise.all(databases.map(appliedMigrations))
          expect(new Set(counts).size).toBe(1)
          const [first] = databases
          expect(first && (await auditTableExists(first))).toBe(true)
        } finally {
          await Promise.all(databases.map((database) => database.close()))
        }
      } finally {
        await fresh.drop()
      }
    })

    it('waits for the migration lock held by another node before migrating', async () => {
      const fresh = await createTestDatabase('postgres', serverUrl)
      const otherNode = postgres(fresh.url as string, { max: 1, onnotice: () => {} })
      try {
        await otherNode`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
        let settled = false
        const opening = openDatabase({ url: fresh.url }).finally(() => {
          settled = true
        })
        // Wait for the event itself: a session of ours blocked on the advisory lock.
        await vi.waitFor(
          async () => {
            const [waiting] = await otherNode<{ count: number }[]>`
              select count(*)::int as count from pg_locks
              where locktype = 'advisory' and not granted and objid = ${MIGRATION_LOCK_KEY}`
            expect(waiting?.count).toBe(1)
          },
          { timeout: 10_000 },
        )
        expect(settled).toBe(false)
        const [table] = await otherNode<{ present: boolean }[]>`
          select to_regclass('public.audit_events') is not null as present`
        expect(table?.present).toBe(false)
        await otherNode`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
        const database = await opening
        expect(await auditTableExists(database)).toBe(true)
        await database.close()
      } finally {
        await otherNode.end({ timeout: 5 })
        await fresh.drop()
      }
    })
  })
}
