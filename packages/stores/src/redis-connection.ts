import { createRequire } from 'node:module'
import type { Redis, RedisOptions } from 'ioredis'

/**
 * ioredis, loaded by the first Redis connection (a store's or the gateway's bus), not at start: 5.4 MB of resident
 * memory that a gateway without Redis (the default) never needs. It is CommonJS, so a synchronous require does.
 */
export function loadIoredis(): typeof import('ioredis') {
  return createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
}

/**
 * Commands are pipelined. While Redis is unreachable they wait for a reconnect, but fail after a few
 * attempts (about 2 s) instead of ioredis's 20 (over a minute): a caller then gets an error rather than
 * hanging. Options given by the caller win.
 */
const CONNECTION_DEFAULTS: RedisOptions = { enableAutoPipelining: true, maxRetriesPerRequest: 5 }

/**
 * A connection to a `redis://` / `rediss://` URL or with ioredis options, its errors passed to `onError`.
 * `defaults` (e.g. a `commandTimeout`) apply under the caller's options.
 */
export function connectRedis(
  redis: string | RedisOptions,
  onError?: (error: Error) => void,
  defaults: RedisOptions = {},
): Redis {
  const base = { ...CONNECTION_DEFAULTS, ...defaults }
  const { Redis: Client } = loadIoredis()
  const connection = typeof redis === 'string' ? new Client(redis, base) : new Client({ ...base, ...redis })
  connection.on('error', (error: Error) => onError?.(error))
  return connection
}

/** QUIT lets queued replies arrive; a connection that is not up has nothing to wait for. */
export async function closeRedis(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') return connection.disconnect()
  await connection.quit().catch(() => connection.disconnect())
}
