import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { lockDataDir } from './data-dir-lock.js'
import { type EmbeddedDatabase, startEmbeddedDatabase } from './embedded/embedded-database.js'
import { UnsupportedDatabaseUrlError } from './errors.js'
import { migrateDatabase } from './migrate.js'
import { prepareStatements } from './prepared-statements.js'
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
  /** `pglite`: the embedded database, in a worker thread; `postgres`: a server. Both speak through `postgres`. */
  kind: 'pglite' | 'postgres'
  db: ParleyDb
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  /** Unset: embedded PGlite in `dataDir`. `memory://`: in-memory PGlite. `postgres://`: a server. */
  url?: string
  /** Data folder of embedded PGlite when `url` is unset; created if missing. */
  dataDir?: string
  /**
   * A data folder to copy into `dataDir` when that holds no database yet, instead of running initdb (seconds
   * of CPU and a few hundred MB at the first start); made by `createEmbeddedTemplate`. Ignored if missing.
   */
  templateDir?: string
  /** Told when the embedded database's thread fails after start-up (its statements then fail too). */
  onEmbeddedError?: (error: Error) => void
  /** Where the drizzle-kit migrations live; defaults to this package's `drizzle/` folder. */
  migrationsFolder?: string
  /** Connection pool size for a Postgres server (the embedded database has one connection). */
  maxConnections?: number
  /**
   * Seconds a Postgres server connection may take to open (TCP, TLS and startup) before the attempt fails
   * and the statements waiting for it are rejected; default 10. Without it a server that drops packets
   * keeps them waiting for the driver's 30 s default.
   */
  connectTimeout?: number
  /**
   * Prepare the statements drizzle runs (those with 1 to 64 parameters; see `prepareStatements`): one round
   * trip each instead of two, and pipelined. Default true; false behind a pooler that cannot keep prepared
   * statements (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean
}

export const DEFAULT_DATA_DIR = './.parley/data'
const DEFAULT_CONNECT_TIMEOUT_S = 10

/**
 * Opens the database named by `options` and applies pending migrations before returning. The embedded
 * database runs in a worker thread and is reached through the same `postgres` driver as a server, with one
 * connection (PGlite has one session): no query runs on the caller's event loop.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<ParleyDatabase> {
  const { url } = options
  if (url === undefined || url === '') {
    const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR)
    await mkdir(dataDir, { recursive: true })
    // Before PGlite touches the files: a second process on the same folder would corrupt it.
    const lock = await lockDataDir(dataDir)
    try {
      return await openEmbedded(dataDir, options, () => lock.release())
    } catch (error) {
      await lock.release()
      throw error
    }
  }
  if (url.startsWith('memory://')) {
    return openEmbedded(undefined, options, async () => {})
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgres(options, url)
  }
  throw new UnsupportedDatabaseUrlError(url)
}

async function openEmbedded(
  dataDir: string | undefined,
  options: OpenDatabaseOptions,
  releaseFolder: () => Promise<void>,
): Promise<ParleyDatabase> {
  const embedded = await startEmbeddedDatabase(dataDir, options.templateDir, options.onEmbeddedError)
  let opened: ParleyDatabase
  try {
    opened = await openPostgres(options, undefined, embedded)
  } catch (error) {
    await embedded.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    kind: 'pglite',
    db: opened.db,
    close: () => {
      closing ??= opened
        .close()
        .finally(() => embedded.close())
        .finally(releaseFolder)
      return closing
    },
  }
}

async function openPostgres(
  options: OpenDatabaseOptions,
  url: string | undefined,
  embedded?: EmbeddedDatabase,
): Promise<ParleyDatabase> {
  const connect_timeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S
  const connection: postgres.Options<Record<string, postgres.PostgresType>> = {
    onnotice: ignoreNotice,
    connect_timeout,
    ...(embedded === undefined
      ? {}
      : // PGlite's own user and database; the settings a server would take from the environment are not read.
        { socket: () => embedded.connect(), user: 'postgres', database: 'postgres', host: 'embedded' }),
  }
  const connect = (settings: postgres.Options<Record<string, postgres.PostgresType>>) =>
    url === undefined
      ? postgres({ ...connection, ...settings })
      : postgres(url, { ...connection, ...settings })
  // Migrate on a dedicated single connection: a session-level advisory lock only protects the
  // statements run on the connection that holds it, which a pool cannot guarantee.
  const migrationClient = connect({ max: 1 })
  try {
    await migrateDatabase(drizzlePostgres({ client: migrationClient }), options.migrationsFolder)
  } finally {
    await migrationClient.end({ timeout: 5 })
  }
  const client = connect({
    max: embedded === undefined ? (options.maxConnections ?? 10) : 1,
    backoff: reconnectDelaySeconds,
  })
  const db = drizzlePostgres({
    client: options.preparedStatements === false ? client : prepareStatements(client),
    schema,
  })
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

/**
 * Makes a template for `openDatabase({ templateDir })`: an embedded database in `templateDir`, initialised
 * and migrated, then closed. Build steps run it once, so a new data folder starts from a copy.
 */
export async function createEmbeddedTemplate(templateDir: string, migrationsFolder?: string): Promise<void> {
  const database = await openDatabase({ dataDir: templateDir, migrationsFolder })
  await database.close()
}
