import type { Redis, RedisOptions } from 'ioredis'
import { StoreError, UpstreamExistsError } from '../errors.js'
import { closeRedis, connectRedis } from '../redis-connection.js'
import type { UpstreamKind, UpstreamRecord, UpstreamStore } from './types.js'
import {
  checkUpstreamId,
  checkUpstreamKind,
  compareUpstreams,
  newUpstreamRecord,
  patchUpstreamRecord,
} from './upstream-records.js'

export interface RedisUpstreamStoreOptions {
  /** A `redis://` / `rediss://` URL or ioredis options. */
  redis: string | RedisOptions
  /** Start of every key, so several deployments can share one Redis; default `parley:`. */
  prefix?: string
  onError?: (error: Error) => void
}

const DEFAULT_PREFIX = 'parley:'
/** Compare-and-set rounds of one update before it gives up (only other nodes' updates make it retry). */
const MAX_UPDATE_ATTEMPTS = 20

// KEYS[1]: the records hash, KEYS[2]: the version counter. Each write and its version bump are one script.
const CREATE = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('INCR', KEYS[2]) return 1`
const UPDATE = `local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) redis.call('INCR', KEYS[2]) return 1`
const DELETE = `if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2]) return 1`

/**
 * Upstreams in Redis, shared by every node on the same prefix: one hash of records (field `<kind>:<id>`, value
 * the record's JSON) and a version counter, both under `<prefix>{u}:` (one hash slot). Durability is Redis's.
 */
export function createRedisUpstreamStore(options: RedisUpstreamStoreOptions): UpstreamStore {
  const base = `${options.prefix ?? DEFAULT_PREFIX}{u}:`
  const recordsKey = `${base}upstreams`
  const versionKey = `${base}version`
  const redis: Redis = connectRedis(options.redis, options.onError)
  const field = (kind: UpstreamKind, id: string) => `${checkUpstreamKind(kind)}:${checkUpstreamId(id)}`
  const script = (lua: string, ...args: string[]) =>
    redis.eval(lua, 2, recordsKey, versionKey, ...args) as Promise<number>

  return {
    async list(kind) {
      if (kind !== undefined) checkUpstreamKind(kind)
      const texts = await redis.hvals(recordsKey)
      return texts
        .map((text) => JSON.parse(text) as UpstreamRecord)
        .filter((record) => kind === undefined || record.kind === kind)
        .sort(compareUpstreams)
    },

    async get(kind, id) {
      const text = await redis.hget(recordsKey, field(kind, id))
      return text === null ? undefined : (JSON.parse(text) as UpstreamRecord)
    },

    async create(input, now) {
      const record = newUpstreamRecord(input, now)
      const created = await script(CREATE, field(record.kind, record.id), JSON.stringify(record))
      if (created === 0) throw new UpstreamExistsError(record.kind, record.id)
      return record
    },

    async update(kind, id, patch, now) {
      const name = field(kind, id)
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await redis.hget(recordsKey, name)
        if (current === null) return undefined
        const next = patchUpstreamRecord(JSON.parse(current) as UpstreamRecord, patch, now)
        const written = await script(UPDATE, name, current, JSON.stringify(next))
        if (written === 1) return next
        if (written === -1) return undefined
      }
      throw new StoreError('unavailable', 'The upstream kept changing on other nodes; try again.')
    },

    async delete(kind, id) {
      return (await script(DELETE, field(kind, id))) === 1
    },

    async version() {
      const text = await redis.get(versionKey)
      return text === null ? 0 : Number(text)
    },

    close: () => closeRedis(redis),
  }
}
