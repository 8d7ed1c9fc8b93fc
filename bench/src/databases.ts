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

export type ServerProbe =
  | { usable: true /** Version and the settings that decide what a commit costs. */; description: string }
  | { usable: false; reason: string }

/** `--require-postgres`: a server that cannot host the bench's databases ends the bench instead of skipping rows. */
export function requireServer(probe: ServerProbe, required: boolean): void {
  if (!probe.usable && required) throw new Error(`--require-postgres: ${probe.reason}`)
}

/** Whether the server can host the bench's databases: it answers and the role may create databases. */
export async function probeServer(serverUrl: string): Promise<ServerProbe> {
  try {
    const [server] = await withServer(
      serverUrl,
      (sql) => sql<[{ canCreate: boolean; version: string; fsync: string; synchronousCommit: string }]>`
        select (select rolcreatedb or rolsuper from pg_roles where rolname = current_user) as "canCreate",
          current_setting('server_version') as version, current_setting('fsync') as fsync,
          current_setting('synchronous_commit') as "synchronousCommit"`,
    )
    if (!server?.canCreate) return { usable: false, reason: 'the role may not create databases' }
    return {
      usable: true,
      description: `PostgreSQL ${server.version}, fsync ${server.fsync}, synchronous_commit ${server.synchronousCommit}`,
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { usable: false, reason: `${redactDatabaseUrl(serverUrl)} did not answer: ${reason}` }
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
