import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { openDatabase } from './database.js'
import { defaultMigrationsFolder } from './migrate.js'

interface Journal {
  entries: { idx: number; when: number; tag: string }[]
}

const folder = defaultMigrationsFolder()
const readJournal = async (from = folder) =>
  JSON.parse(await readFile(join(from, 'meta', '_journal.json'), 'utf8')) as Journal

describe('committed migrations', () => {
  // Drizzle's migrator applies only entries newer than the last applied one: an entry whose `when` is not
  // above its predecessor's (two branches generating migrations) would be skipped on existing databases.
  it('lists one SQL file per journal entry, numbered in order, with strictly increasing timestamps', async () => {
    const { entries } = await readJournal()
    const files = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort()
    expect(files).toEqual(entries.map((entry) => `${entry.tag}.sql`))
    entries.forEach((entry, index) => {
      expect(entry.idx).toBe(index)
      expect(entry.tag.startsWith(String(index).padStart(4, '0'))).toBe(true)
      if (index > 0) expect(entry.when).toBeGreaterThan(entries[index - 1]?.when ?? Number.POSITIVE_INFINITY)
    })
  })

  it('upgrades a database migrated without the newest migration to the full schema', async () => {
    const { entries } = await readJournal()
    const older = await mkdtemp(join(tmpdir(), 'parley-migrations-'))
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-upgrade-'))
    try {
      // The folder as it was before the newest migration.
      await cp(folder, older, { recursive: true })
      const newest = entries.at(-1)
      if (newest === undefined) throw new Error('no migrations')
      await rm(join(older, `${newest.tag}.sql`))
      await writeFile(
        join(older, 'meta', '_journal.json'),
        JSON.stringify({ ...(await readJournal()), entries: entries.slice(0, -1) }),
      )
      const before = await openDatabase({ dataDir, migrationsFolder: older })
      await before.close()
      const after = await openDatabase({ dataDir })
      try {
        const [applied] = await after.db
          .select({ count: sql<number>`count(*)::int` })
          .from(sql`drizzle.__drizzle_migrations`)
        expect(applied?.count).toBe(entries.length)
        // The newest migration's tables answer queries.
        const [tables] = await after.db
          .select({ count: sql<number>`count(*)::int` })
          .from(sql`pg_catalog.pg_tables`)
          .where(sql`schemaname = 'public' and tablename in ('dashboard_sessions')`)
        expect(tables?.count).toBe(1)
      } finally {
        await after.close()
      }
    } finally {
      await rm(older, { recursive: true, force: true })
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
