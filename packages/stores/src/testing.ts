import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { afterAll, beforeAll } from 'vitest'
import { openDatabase, type ParleyDatabase } from './database.js'

/**
 * Test helpers shared by this package's suites and the gateway's: where to run a store suite, and a
 * fresh, disposable database for each test file.
 */

export type TestDatabaseKind = 'postgres' | 'pglite-memory' | 'pglite-dir'

export interface TestDatabase {
  kind: TestDatabaseKind
  /** Pass to `openDatabase({ url })`; `undefined` for embedded PGlite in `dataDir`. */
  url: string | undefined
  /** Set for `pglite-dir`: a fresh temporary folder. */
  dataDir?: string
  /** Human-readable name for test titles; never contains a password. */
  label: string
  /** Removes the database (server database dropped WITH (FORCE), temp folder deleted). */
  drop(): Promise<void>
}

export interface DatabaseTarget {
  kind: TestDatabaseKind
  label: string
  create(): Promise<TestDatabase>
}

/** The server named by `DATABASE_URL`, if any; read here so callers can stay free of `process.env`. */
export function testServerUrl(): string | undefined {
  const url = process.env.DATABASE_URL
  return url === undefined || url === '' ? undefined : url
}

/**
 * Targets a store suite runs against: always in-memory PGlite, plus the real server when `DATABASE_URL`
 * is set. `includeDataDir` adds PGlite persisted in a temporary folder.
 */
export function databaseTargets(
  options: { includeDataDir?: boolean; serverUrl?: string } = {},
): DatabaseTarget[] {
  const serverUrl = options.serverUrl ?? testServerUrl()
  const targets: DatabaseTarget[] = [
    { kind: 'pglite-memory', label: 'pglite (memory://)', create: () => createTestDatabase('pglite-memory') },
  ]
  if (options.includeDataDir) {
    targets.push({
      kind: 'pglite-dir',
      label: 'pglite (data dir)',
      create: () => createTestDatabase('pglite-dir'),
    })
  }
  if (serverUrl !== undefined) {
    targets.push({
      kind: 'postgres',
      label: `postgres (${new URL(serverUrl).host})`,
      create: () => createTestDatabase('postgres', serverUrl),
    })
  }
  return targets
}

/** A suite's own database on one target, opened (and migrated) before its tests, closed and dropped after. */
export interface SuiteDatabase {
  /** The suite's open handle (a new one after `reopen()`). */
  readonly database: ParleyDatabase
  /** The database itself, for a handle the test opens in its own way. */
  readonly testDatabase: TestDatabase
  /** Opens another handle on the same database, as a second node would; the caller closes it. */
  open(): Promise<ParleyDatabase>
  /** Closes the suite's handle and opens a new one, as a restart does. */
  reopen(): Promise<ParleyDatabase>
  /**
   * Runs `run` with a second node's handle: on a real server a second connection pool, as a second gateway
   * node would have (closed afterwards); on PGlite, which one process owns, the suite's handle.
   */
  withSecondNode<T>(run: (second: ParleyDatabase) => Promise<T>): Promise<T>
}

/** Call inside a `describe`: creates the target's database in `beforeAll` and drops it in `afterAll`. */
export function useSuiteDatabase(target: DatabaseTarget): SuiteDatabase {
  let testDatabase: TestDatabase | undefined
  let database: ParleyDatabase | undefined
  const created = (): TestDatabase => {
    if (testDatabase === undefined) throw new Error('the suite database is created in beforeAll')
    return testDatabase
  }
  const open = () => openDatabase({ url: created().url, dataDir: created().dataDir })

  beforeAll(async () => {
    testDatabase = await target.create()
    database = await open()
  })

  afterAll(async () => {
    await database?.close()
    await testDatabase?.drop()
  })

  return {
    get database() {
      if (database === undefined) throw new Error('the suite database is opened in beforeAll')
      return database
    },
    get testDatabase() {
      return created()
    },
    open,
    async reopen() {
      await database?.close()
      database = await open()
      return database
    },
    async withSecondNode(run) {
      if (target.kind !== 'postgres') return run(this.database)
      const second = await open()
      try {
        return await run(second)
      } finally {
        await second.close()
      }
    },
  }
}

/**
 * A fresh database. Without a kind: a new `parley_test_<random>` database on the `DATABASE_URL` server
 * when it is set, otherwise in-memory PGlite.
 */
export async function createTestDatabase(
  kind: TestDatabaseKind = testServerUrl() === undefined ? 'pglite-memory' : 'postgres',
  serverUrl: string | undefined = testServerUrl(),
): Promise<TestDatabase> {
  switch (kind) {
    case 'pglite-memory':
      return { kind, url: 'memory://', label: 'pglite (memory://)', drop: async () => {} }
    case 'pglite-dir': {
      const dataDir = await mkdtemp(join(tmpdir(), 'parley-test-'))
      return {
        kind,
        url: undefined,
        dataDir,
        label: 'pglite (data dir)',
        drop: () => rm(dataDir, { recursive: true, force: true }),
      }
    }
    case 'postgres': {
      if (serverUrl === undefined)
        throw new Error('createTestDatabase("postgres") needs DATABASE_URL to be set')
      return createServerDatabase(serverUrl)
    }
  }
}

async function createServerDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`
  await withAdminConnection(serverUrl, (sql) => sql`create database ${sql(name)}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    kind: 'postgres',
    url: url.toString(),
    label: `postgres (${url.host}/${name})`,
    drop: () =>
      withAdminConnection(serverUrl, (sql) => sql`drop database if exists ${sql(name)} with (force)`),
  }
}

async function withAdminConnection(
  serverUrl: string,
  run: (sql: postgres.Sql) => Promise<unknown>,
): Promise<void> {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} })
  try {
    await run(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** The Redis server named by `REDIS_URL`, if any; read here so callers can stay free of `process.env`. */
export function testRedisUrl(): string | undefined {
  const url = process.env.REDIS_URL
  return url === undefined || url === '' ? undefined : url
}

/** A key prefix no other test uses: `parley-test:<random>:`. */
export function testRedisPrefix(): string {
  return `parley-test:${randomBytes(6).toString('hex')}:`
}

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK, never FLUSHDB: the server is shared).
 * Returns how many were deleted.
 */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  if (prefix.length === 0) throw new Error('deleteRedisKeys needs a non-empty prefix')
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 })
  await redis.connect()
  let deleted = 0
  try {
    // Glob metacharacters in the prefix are escaped, so the pattern matches the prefix literally.
    const pattern = `${prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`)}*`
    let cursor = '0'
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000)
      cursor = nextCursor
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
  return deleted
}
