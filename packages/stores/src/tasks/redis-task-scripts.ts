import type { Redis } from 'ioredis'

/**
 * The Lua scripts of the Redis task store: each write that touches several keys is one script, so it is
 * atomic. Scripts never parse JSON (Lua's cjson rounds numbers): the new record is computed in
 * JavaScript and the append script only writes it if the task's sequence number is still the one it was
 * computed from (compare-and-set).
 *
 * KEYS[1] is the key base (`<prefix>{t}:`): every key is the base plus a suffix, so all of them share the
 * hash tag `{t}` and one cluster slot. Keys:
 *   T:<id>      hash: r (the task as JSON), seq (its last sequence number), o (owner)
 *   E:<id>      list of the task's events as JSON; event n is at index n - 1
 *   M:<id>      list of the sequence numbers of its events that hold a history message
 *   A:<id>      list of the sequence numbers of its artifact events (folded into its artifacts on a read)
 *   O:<owner>   zset of the owner's task ids scored by updatedAt (ties: id byte order, as lists need)
 *   X           zset of terminal task ids scored by updatedAt (for retention)
 *   W           zset of the other (unfinished) task ids scored by updatedAt (for listStale)
 *   P:<id>      hash: push config id -> config JSON (secrets already encrypted)
 *   PC:<id>     hash: push config id -> createdAt of its first version (a replaced config keeps its place)
 */

const PRELUDE = `
local base = KEYS[1]
local function touch(id, owner, updatedAt, terminal)
  redis.call('ZADD', base .. 'O:' .. owner, updatedAt, id)
  if terminal == '1' then
    redis.call('ZADD', base .. 'X', updatedAt, id)
    redis.call('ZREM', base .. 'W', id)
  else
    redis.call('ZADD', base .. 'W', updatedAt, id)
  end
end
`

/** ARGV: id, owner, record, updatedAt, terminal (1/0), first event JSON or ''. Returns 0 if the id is taken. */
const CREATE = `${PRELUDE}
local id, owner = ARGV[1], ARGV[2]
local task = base .. 'T:' .. id
if redis.call('EXISTS', task) == 1 then return 0 end
local seq = 0
if ARGV[6] ~= '' then
  redis.call('RPUSH', base .. 'E:' .. id, ARGV[6])
  redis.call('RPUSH', base .. 'M:' .. id, 1)
  seq = 1
end
redis.call('HSET', task, 'r', ARGV[3], 'seq', seq, 'o', owner)
touch(id, owner, ARGV[4], ARGV[5])
return 1
`

/**
 * ARGV: id, expected seq, record after the events, its updatedAt, terminal (1/0), then per event its JSON
 * and its index ('M' history, 'A' artifact, or ''). The events take the numbers after the expected one.
 * Returns 1 when appended, 0 when the task moved on (compute again), -1 when it does not exist.
 */
const APPEND = `${PRELUDE}
local id = ARGV[1]
local task = base .. 'T:' .. id
local seq = redis.call('HGET', task, 'seq')
if not seq then return -1 end
if seq ~= ARGV[2] then return 0 end
local nextSeq = tonumber(seq)
for i = 6, #ARGV, 2 do
  nextSeq = nextSeq + 1
  redis.call('RPUSH', base .. 'E:' .. id, ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('RPUSH', base .. ARGV[i + 1] .. ':' .. id, nextSeq) end
end
redis.call('HSET', task, 'r', ARGV[3], 'seq', nextSeq)
touch(id, redis.call('HGET', task, 'o'), ARGV[4], ARGV[5])
return 1
`

/**
 * ARGV: id, index ('M' history messages, 'A' artifact events), count (0: all). The newest `count` events
 * of the index (JSON), oldest first.
 */
const INDEXED_EVENTS = `
local base = KEYS[1]
local id = ARGV[1]
local count = tonumber(ARGV[3])
local start = 0
if count > 0 then start = -count end
local events = {}
for _, seq in ipairs(redis.call('LRANGE', base .. ARGV[2] .. ':' .. id, start, -1)) do
  events[#events + 1] = redis.call('LINDEX', base .. 'E:' .. id, tonumber(seq) - 1)
end
return events
`

/**
 * ARGV: task id, owner, config id, config JSON, createdAt, per-task cap. Returns the config's createdAt
 * (the first version's), -1 when the task is not the owner's, -2 when the cap is reached.
 */
const SET_PUSH_CONFIG = `
local base = KEYS[1]
local id, owner, configId = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', base .. 'T:' .. id, 'o') ~= owner then return -1 end
local configs = base .. 'P:' .. id
if redis.call('HEXISTS', configs, configId) == 0 and redis.call('HLEN', configs) >= tonumber(ARGV[6]) then
  return -2
end
redis.call('HSET', configs, configId, ARGV[4])
redis.call('HSETNX', base .. 'PC:' .. id, configId, ARGV[5])
return tonumber(redis.call('HGET', base .. 'PC:' .. id, configId))
`

/** ARGV: task id, owner, config id. Returns 1 deleted, 0 absent, -1 when the task is not the owner's. */
const DELETE_PUSH_CONFIG = `
local base = KEYS[1]
local id, owner, configId = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', base .. 'T:' .. id, 'o') ~= owner then return -1 end
redis.call('HDEL', base .. 'PC:' .. id, configId)
return redis.call('HDEL', base .. 'P:' .. id, configId)
`

/** ARGV: cutoff (exclusive), batch size. Deletes that many terminal tasks older than the cutoff; returns how many. */
const DELETE_EXPIRED = `
local base = KEYS[1]
local ids = redis.call('ZRANGEBYSCORE', base .. 'X', '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local owner = redis.call('HGET', base .. 'T:' .. id, 'o')
  if owner then redis.call('ZREM', base .. 'O:' .. owner, id) end
  redis.call('DEL', base .. 'T:' .. id, base .. 'E:' .. id, base .. 'M:' .. id, base .. 'A:' .. id,
    base .. 'P:' .. id, base .. 'PC:' .. id)
  redis.call('ZREM', base .. 'X', id)
end
return #ids
`

const SCRIPTS = {
  parleyTaskCreate: CREATE,
  parleyTaskAppend: APPEND,
  parleyTaskIndexedEvents: INDEXED_EVENTS,
  parleyTaskSetPushConfig: SET_PUSH_CONFIG,
  parleyTaskDeletePushConfig: DELETE_PUSH_CONFIG,
  parleyTaskDeleteExpired: DELETE_EXPIRED,
} as const

export type TaskScriptName = keyof typeof SCRIPTS

/** Runs one script: the key base is its only key, the arguments its ARGV. */
export type RunTaskScript = (name: TaskScriptName, args: (string | number)[]) => Promise<unknown>

/** Defines the scripts on a connection (EVALSHA, falling back to EVAL once per script). */
export function defineTaskScripts(redis: Redis, base: string): RunTaskScript {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  const commands = redis as unknown as Record<
    TaskScriptName,
    (base: string, ...args: (string | number)[]) => Promise<unknown>
  >
  return (name, args) => commands[name].call(redis, base, ...args)
}
