import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { storesAsset } from './assets.js'

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
