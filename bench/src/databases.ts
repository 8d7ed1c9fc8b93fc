import { randomBytes } from 'node:crypto'
import postgres from 'postgres'

/** A database one gateway run writes into, removed after the run. */
export interface RunDatabase {
  url: string
  drop(): Promise<void>
}

/** Databases created and not dropped yet, so an interrupted bench still removes them. */
const live = new Set<RunDatabase>()

const CONNECT_TIMEOUT_SECONDS = 5

/** Hides a password in a database URL before it is printed. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

/** Runs one statement on the server's maintenance connection, then disconnects. */
async function withServer<T>(serverUrl: string, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(serverUrl, { max: 1, connect_timeout: CONNECT_TIMEOUT_SECONDS, onnotice: () => {} })
  try {
    return await run(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * Why the server cannot host the bench's databases, or `undefined` when it can: it answers and the role
 * may create databases.
 */
export async function whyServerUnusable(serverUrl: string): Promise<string | undefined> {
  try {
    const [role] = await withServer(
      serverUrl,
      (sql) => sql<[{ canCreate: boolean }]>`select rolcreatedb or rolsuper as "canCreate"
        from pg_roles where rolname = current_user`,
    )
    return role?.canCreate ? undefined : 'the role may not create databases'
  } catch (error) {
    return `${redactDatabaseUrl(serverUrl)} did not answer: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** A fresh, empty `parley_bench_<random>` database on the server; the gateway migrates it at start-up. */
export async function createRunDatabase(serverUrl: string): Promise<RunDatabase> {
  const name = `parley_bench_${randomBytes(6).toString('hex')}`
  await withServer(serverUrl, (sql) => sql`create database ${sql(name)}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const database: RunDatabase = {
    url: url.toString(),
    async drop() {
      live.delete(database)
      await withServer(serverUrl, (sql) => sql`drop database if exists ${sql(name)} with (force)`)
    },
  }
  live.add(database)
  return database
}

/** Drops every database still there (after Ctrl-C or a time-out); failures are reported, not thrown. */
export async function dropLiveDatabases(): Promise<void> {
  const results = await Promise.allSettled([...live].map((database) => database.drop()))
  for (const result of results) {
    if (result.status === 'rejected') {
      process.stderr.write(`bench: could not drop a throw-away database: ${String(result.reason)}\n`)
    }
  }
}
