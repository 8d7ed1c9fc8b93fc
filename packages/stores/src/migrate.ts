import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { storesAsset } from './assets.js'
import { resultRows } from './delivery/postgres-rows.js'

/**
 * Fixed key of the session-level advisory lock taken around migrations ("parl" in ASCII), so gateway
 * nodes starting at the same moment apply them one after the other instead of racing on `CREATE`.
 */
export const MIGRATION_LOCK_KEY = 0x7061726c

/** The committed drizzle-kit output (`drizzle/`; in the gateway's bundle, `dist/drizzle/`). */
export function defaultMigrationsFolder(): string {
  return storesAsset('drizzle', 'drizzle')
}

/**
 * Applies pending migrations under the advisory lock. `db` must sit on a single connection (the lock
 * belongs to the session that took it): a PGlite handle, or a `postgres` client with `max: 1`.
 */
export async function migrateDatabase(
  db: PgDatabase<PgQueryResultHKT, Record<string, unknown>>,
  migrationsFolder: string = defaultMigrationsFolder(),
): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder })
  await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
  try {
    // `dialect` and `session` are internal to drizzle's PgDatabase but are what its own per-driver
    // `migrate()` helpers call; going through them keeps one code path for both drivers.
    const internals = db as unknown as DrizzleInternals
    await internals.dialect.migrate(migrations, internals.session, { migrationsFolder })
  } finally {
    await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
  }
}

interface DrizzleInternals {
  dialect: {
    migrate(
      migrations: ReturnType<typeof readMigrationFiles>,
      session: unknown,
      config: { migrationsFolder: string },
    ): Promise<void>
  }
  session: unknown
}

/** How far a database is: migrations applied to it, and the tags of those in `migrationsFolder`, in order. */
export interface MigrationStatus {
  applied: number
  available: string[]
}

export async function migrationStatus(
  db: PgDatabase<PgQueryResultHKT, Record<string, unknown>>,
  migrationsFolder: string = defaultMigrationsFolder(),
): Promise<MigrationStatus> {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ tag: string }>
  }
  const rows = resultRows<{ applied: number }>(
    await db.execute(sql`select count(*)::int as applied from drizzle.__drizzle_migrations`),
  )
  return { applied: rows[0]?.applied ?? 0, available: journal.entries.map((entry) => entry.tag) }
}
