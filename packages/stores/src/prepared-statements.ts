import type postgres from 'postgres'

/**
 * Statements with more parameters than this are sent unprepared: a batch insert's text changes with its row
 * count, and every prepared statement stays in its session until the connection closes.
 */
export const MAX_PREPARED_PARAMETERS = 64

type Sql = postgres.Sql<Record<string, postgres.PostgresType>>
type Unsafe = Sql['unsafe']
type Scoped = (...args: unknown[]) => Promise<unknown>

/**
 * Has the driver prepare the statements drizzle runs (one to 64 parameters), on `sql` and on the
 * transactions and savepoints opened through it.
 *
 * drizzle runs every statement it is not given a name for with `prepare: false`, and the `postgres` driver
 * sends an unprepared statement with parameters in two steps: Parse and Describe, a wait for the server's
 * answer, then Bind and Execute. It holds the connection's next statements until the second step is sent, so
 * each statement costs two round trips and nothing is pipelined; against the embedded database the second
 * step also waits for the gateway's event loop. A prepared statement goes in one step from its second use
 * on. The statement texts are drizzle's, made from the code's queries (never from values), so each
 * connection prepares a bounded set. Statements without parameters stay unprepared (the driver already sends
 * them in one step, and some carry numbers in their text).
 */
export function prepareStatements<T extends Sql>(sql: T): T {
  const unsafe: Unsafe = sql.unsafe.bind(sql)
  const prepared = ((query: string, parameters?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const count = parameters?.length ?? 0
    return unsafe(query, parameters as never, {
      ...options,
      prepare: count > 0 && count <= MAX_PREPARED_PARAMETERS,
    })
  }) as Unsafe
  Object.assign(sql, { unsafe: prepared })
  for (const name of ['begin', 'savepoint'] as const) {
    const scoped = (sql as unknown as Record<string, Scoped | undefined>)[name]
    if (typeof scoped !== 'function') continue
    const original = scoped.bind(sql)
    Object.assign(sql, {
      [name]: (...args: unknown[]) => {
        // begin(options?, callback) / savepoint(name?, callback): the callback is the last argument.
        const callback = args.at(-1)
        if (typeof callback !== 'function') return original(...args)
        return original(...args.slice(0, -1), (inner: Sql) => callback(prepareStatements(inner)))
      },
    })
  }
  return sql
}
