import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { lockDataDir } from './data-dir-lock.js'
import { UnsupportedDatabaseUrlError } from './errors.js'
import { migrateDatabase } from './migrate.js'
import * as schema from './schema.js'

export type ParleySchema = typeof schema

/** A Drizzle handle that works the same on PGlite and on a Postgres server. */
export type ParleyDb = PgDatabase<PgQueryResultHKT, ParleySchema>

/** The `tx` handed to `db.transaction(async (tx) => …)`; store methods that need one take it as a parameter. */
export type ParleyTransaction = PgTransaction<
  PgQueryResultHKT,
  ParleySchema,
  ExtractTablesWithRelations<ParleySchema>
>

/** Where a store method runs its statements: the database, or a transaction the caller opened. */
export type ParleyExecutor = ParleyDb | ParleyTransaction

export interface ParleyDatabase {
  kind: 'pglite' | 'postgres'
  db: ParleyDb
  /** The embedded client when `kind` is `pglite`, for the few statements that need its own API. */
  pglite?: PGlite
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  /** Unset: embedded PGlite in `dataDir`. `memory://`: in-memory PGlite. `postgres://`: a server. */
  url?: string
  /** Data folder of embedded PGlite when `url` is unset; created if missing. */
  dataDir?: string
  /** Where the drizzle-kit migrations live; defaults to this package's `drizzle/` folder. */
  migrationsFolder?: string
  /** Connection pool size for a Postgres server. */
  maxConnections?: number
  /**
   * Seconds a Postgres server connection may take to open (TCP, TLS and startup) before the attempt fails
   * and the statements waiting for it are rejected; default 10. Without it a server that drops packets
   * keeps them waiting for the driver's 30 s default.
   */
  connectTimeout?: number
}

export const DEFAULT_DATA_DIR = './.parley/data'
const DEFAULT_CONNECT_TIMEOUT_S = 10

/** Opens the database named by `options` and applies pending migrations before returning. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<ParleyDatabase> {
  const { url } = options
  if (url === undefined || url === '') {
    const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR)
    await mkdir(dataDir, { recursive: true })
    // Before PGlite touches the files: a second process on the same folder would corrupt it.
    const lock = await lockDataDir(dataDir)
    try {
      return await openPglite(new PGlite(dataDir), options.migrationsFolder, () => lock.release())
    } catch (error) {
      await lock.release()
      throw error
    }
  }
  if (url.startsWith('memory://')) {
    return openPglite(new PGlite(), options.migrationsFolder, async () => {})
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgres(url, options)
  }
  throw new UnsupportedDatabaseUrlError(url)
}

async function openPglite(
  client: PGlite,
  migrationsFolder: string | undefined,
  releaseFolder: () => Promise<void>,
): Promise<ParleyDatabase> {
  const db = drizzlePglite({ client, schema })
  try {
    // PGlite has a single connection, so the advisory lock is trivially held by the migrating session.
    await migrateDatabase(db, migrationsFolder)
  } catch (error) {
    await client.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    kind: 'pglite',
    db,
    pglite: client,
    close: () => {
      closing ??= client.close().finally(releaseFolder)
      return closing
    },
  }
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<ParleyDatabase> {
  // Migrate on a dedicated single connection: a session-level advisory lock only protects the
  // statements run on the connection that holds it, which a pool cannot guarantee.
  const connect_timeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S
  const migrationClient = postgres(url, { max: 1, onnotice: ignoreNotice, connect_timeout })
  try {
    await migrateDatabase(drizzlePostgres({ client: migrationClient }), options.migrationsFolder)
  } finally {
    await migrationClient.end({ timeout: 5 })
  }
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: ignoreNotice,
    connect_timeout,
    backoff: reconnectDelaySeconds,
  })
  const db = drizzlePostgres({ client, schema })
  return {
    kind: 'postgres',
    db,
    close: () => client.end({ timeout: 5 }),
  }
}

/**
 * Seconds before the next connection attempt after `failures` failed ones (counted across the pool until
 * one succeeds), with jitter. The driver's own curve grows to 20 s after a dozen failures, which a 10 s
 * outage reaches: the pool would then stay away that long after the server is back. Capped at 2 s.
 */
function reconnectDelaySeconds(failures: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** failures, 2)
}

// The `postgres` driver prints server notices ("schema already exists, skipping") with console.log
// unless told otherwise; they carry nothing an operator needs.
function ignoreNotice(): void {}
