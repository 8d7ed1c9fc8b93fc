import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

const CONNECT_TIMEOUT_MS = 5000

/** Hides a password in a Redis URL before it is printed. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
}

/** One short-lived connection that fails fast instead of retrying. */
async function withRedis<T>(url: string, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  // ioredis rejects with "Connection is closed"; the socket's error says why.
  let cause: string | undefined
  redis.on('error', (error: Error) => {
    cause ??= error.message
  })
  try {
    await redis.connect()
    return await run(redis)
  } catch (error) {
    throw cause === undefined ? error : new Error(cause)
  } finally {
    redis.disconnect()
  }
}

export type RedisProbe = { usable: true; description: string } | { usable: false; reason: string }

/** Whether the Redis answers PING, and its version. */
export async function probeRedis(url: string): Promise<RedisProbe> {
  try {
    const version = await withRedis(url, async (redis) => {
      await redis.ping()
      const info = await redis.info('server')
      return /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown'
    })
    return { usable: true, description: `Redis ${version}` }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { usable: false, reason: `${redactRedisUrl(url)} did not answer: ${reason}` }
  }
}

/** A key and channel prefix no other run (and no other user of the Redis) shares. */
export function runPrefix(): string {
  return `parley-bench-${randomBytes(6).toString('hex')}:`
}

/** Prefixes used by runs that have not cleaned up yet, so an interrupted bench still removes their keys. */
const live = new Map<string, string>()

export function trackPrefix(url: string, prefix: string): void {
  live.set(prefix, url)
}

/** Deletes every key under the run's prefix (a gateway leaves its node registry and presence there). */
export async function removePrefix(url: string, prefix: string): Promise<void> {
  live.delete(prefix)
  await withRedis(url, async (redis) => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  })
}

/** Removes the keys of every run still live (after Ctrl-C or a time-out); failures are reported, not thrown. */
export async function removeLivePrefixes(): Promise<void> {
  const results = await Promise.allSettled([...live].map(([prefix, url]) => removePrefix(url, prefix)))
  for (const result of results) {
    if (result.status === 'rejected') {
      process.stderr.write(`bench: could not remove a run's Redis keys: ${String(result.reason)}\n`)
    }
  }
}
