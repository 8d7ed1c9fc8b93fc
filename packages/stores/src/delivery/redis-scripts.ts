import type { Redis } from 'ioredis'
import { LIST_DEAD, PURGE_DEAD, REQUEUE } from './redis-dead-letter-scripts.js'
import { PRELUDE } from './redis-script-prelude.js'

/**
 * The Lua scripts of the Redis delivery backend. Every change that touches several keys runs as one script,
 * so it is atomic: a publish assigns offsets, appends the history, claims idempotency keys and fans out to
 * durable subscribers in one step; an ack, a fail or a requeue moves a delivery between its indexes in one.
 *
 * KEYS[1] is the key base (`<prefix>{d}:`): every key is the base plus a suffix, so all of them share the
 * hash tag `{d}` and one cluster slot. Keys:
 *   S:<channel>   hash: epoch, top (last offset)
 *   H:<channel>   list of retained publications, oldest first: "<timestamp>:<offset>:<body>"
 *   streams       zset channel -> wall-clock expiry of its S/H keys (for trim to visit)
 *   K:<scope+key> idempotency key: "<expiresAt>|<first result>", with a PX of the dedupe window
 *   KZ            zset idempotency key name -> expiresAt (for trim to count and delete)
 *   D:<id>        hash: one delivery (fields below)
 *   L:<recipient> set of the recipient's live (pending + in-flight) delivery ids
 *   O:<recipient> zset of pending order members ("<offset>:<seq>:<id>") scored by createdAt
 *   N:<recipient> zset of pending delivery ids scored by nextAttemptAt
 *   A             zset of live delivery ids scored by expiresAt
 *   I             set of in-flight delivery ids
 *   X             zset of dead delivery ids scored by deadAt
 *   SUB:<channel> / RSUB:<recipient>  durable subscriptions, both ways; subcount their number
 *   seq           creation counter (the last tie-breaker of due order)
 * Delivery fields: id, b body JSON [messageId, source, data, fromAgent?, traceId?], k kind, r recipient, ch channel, o offset, e epoch,
 * c createdAt, x expiresAt, a attempts, f failures, n nextAttemptAt, s state, rc receipt (1/0), l lastError,
 * m order member, dr dead reason, da deadAt, rq requeues, rqa requeuedAt, rqb attempts before the last requeue.
 */

/**
 * ARGV: wallNow, dedupeWindowMs, channelCount, then per channel: name, epochCandidate, size, ttlMs,
 * streamTtlMs, subscriberCount, subscribers…; then inputCount, per input: channelIndex, hasKey, keyName,
 * timestamp, keyExpiresAt, body, deliveryExpiresAt, one delivery id per subscriber of its channel.
 * Returns {'retry', subscribersPerChannel} when the subscribers are not those the caller assumed (nothing
 * written), an error when a delivery id is taken (nothing written), else
 * {'ok', results} with {0, offset, epoch} for a stored publication or {1, firstResult} for a repeat.
 */
const PUBLISH = `${PRELUDE}
local wallNow = ARGV[1]
local window = ARGV[2]
local i = 3
local channelCount = tonumber(ARGV[i]); i = i + 1
local channels = {}
local stale = false
for c = 1, channelCount do
  local channel = { name = ARGV[i], epoch = ARGV[i + 1], size = tonumber(ARGV[i + 2]),
    ttl = tonumber(ARGV[i + 3]), streamTtl = ARGV[i + 4], subs = {} }
  local subCount = tonumber(ARGV[i + 5])
  i = i + 6
  for s = 1, subCount do channel.subs[s] = ARGV[i]; i = i + 1 end
  local subKey = base .. 'SUB:' .. channel.name
  if redis.call('SCARD', subKey) ~= subCount then stale = true end
  for s = 1, subCount do
    if not stale and redis.call('SISMEMBER', subKey, channel.subs[s]) == 0 then stale = true end
  end
  channels[c] = channel
end
if stale then
  local current = {}
  for c = 1, channelCount do current[c] = redis.call('SMEMBERS', base .. 'SUB:' .. channels[c].name) end
  return {'retry', current}
end
local inputCount = tonumber(ARGV[i]); i = i + 1
-- Read every input first: a delivery id that is taken fails the whole batch before any write.
local inputs = {}
local idsInBatch = {}
for k = 1, inputCount do
  local one = { channel = channels[tonumber(ARGV[i])], hasKey = ARGV[i + 1] == '1',
    keyName = base .. 'K:' .. ARGV[i + 2], ts = ARGV[i + 3], keyExpiresAt = ARGV[i + 4], body = ARGV[i + 5],
    expiresAt = ARGV[i + 6], ids = {} }
  i = i + 7
  for s = 1, #one.channel.subs do
    local id = ARGV[i]
    if idsInBatch[id] or redis.call('EXISTS', dkey(id)) == 1 then
      return redis.error_reply('Delivery ' .. id .. ' already exists')
    end
    idsInBatch[id] = true
    one.ids[s] = id
    i = i + 1
  end
  inputs[k] = one
end
local results = {}
local touched = {}
for k, one in ipairs(inputs) do
  local channel = one.channel
  local first = false
  if one.hasKey then first = heldResult(one.keyName, tonumber(one.ts)) end
  if first then
    results[k] = {1, first}
  else
    local epoch = ensureStream(channel.name, channel.epoch, channel.streamTtl, wallNow)
    local offset = redis.call('HINCRBY', base .. 'S:' .. channel.name, 'top', 1)
    redis.call('RPUSH', base .. 'H:' .. channel.name, one.ts .. ':' .. offset .. ':' .. one.body)
    trimHistory(channel.name, channel.size, channel.ttl, tonumber(one.ts))
    if one.hasKey then
      rememberKey(one.keyName, one.keyExpiresAt, offset .. '|' .. epoch .. '|' .. one.ts .. '|' .. one.body, window)
    end
    for s = 1, #channel.subs do
      createDelivery(one.ids[s], channel.subs[s], 'channel', channel.name, offset, epoch, one.body, one.ts,
        one.expiresAt, '0')
    end
    results[k] = {0, offset, epoch}
    touched[channel.name] = channel.streamTtl
  end
end
for name, streamTtl in pairs(touched) do touchStream(name, streamTtl, wallNow) end
return {'ok', results}
`

/**
 * ARGV: channel, epochCandidate, streamTtlMs, wallNow, sinceEpoch, sinceOffset, size.
 * Returns {epoch, top, entries}: the last (top - since) entries when the epoch matches and they can all
 * still be there (not more than size nor than the list holds); else no entries.
 */
const READ_STREAM = `${PRELUDE}
local channel = ARGV[1]
local epoch, top = ensureStream(channel, ARGV[2], ARGV[3], ARGV[4])
local since = tonumber(ARGV[6])
local missed = top - since
local entries = {}
if ARGV[5] == epoch and since >= 0 and missed > 0 and missed <= tonumber(ARGV[7]) then
  local hk = base .. 'H:' .. channel
  if missed <= redis.call('LLEN', hk) then entries = redis.call('LRANGE', hk, -missed, -1) end
end
return {epoch, top, entries}
`

/** ARGV: wallNow, then per channel: name, size, ttlMs, now. Returns publications removed. */
const TRIM_STREAMS = `${PRELUDE}
redis.call('ZREMRANGEBYSCORE', base .. 'streams', '-inf', ARGV[1])
local removed = 0
for i = 2, #ARGV, 4 do
  removed = removed + trimHistory(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]))
end
return removed
`

/** ARGV: now, batch. Deletes up to batch idempotency keys whose window ended by now; returns how many. */
const TRIM_KEYS = `${PRELUDE}
local now = tonumber(ARGV[1])
local names = redis.call('ZRANGEBYSCORE', base .. 'KZ', '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, name in ipairs(names) do
  if not heldResult(name, now) then redis.call('DEL', name) end
  redis.call('ZREM', base .. 'KZ', name)
end
return #names
`

/**
 * ARGV: dedupeWindowMs, inputCount, per input: id, hasKey, keyName, timestamp, keyExpiresAt, snapshot,
 * body, recipient, expiresAt, receipt, kind. All or none: a taken delivery id fails the call before any write.
 * Returns per input {0} (stored) or {1, firstSnapshot} (a repeat of a live key).
 */
const SEND = `${PRELUDE}
local window = ARGV[1]
local count = tonumber(ARGV[2])
local function input(k)
  local at = 3 + (k - 1) * 11
  return { id = ARGV[at], hasKey = ARGV[at + 1] == '1', keyName = base .. 'K:' .. ARGV[at + 2],
    ts = ARGV[at + 3], keyExpiresAt = ARGV[at + 4], snapshot = ARGV[at + 5], body = ARGV[at + 6],
    recipient = ARGV[at + 7], expiresAt = ARGV[at + 8], receipt = ARGV[at + 9], kind = ARGV[at + 10] }
end
local keysInCall = {}
local idsInCall = {}
for k = 1, count do
  local one = input(k)
  local repeated = false
  if one.hasKey then
    repeated = keysInCall[one.keyName] or heldResult(one.keyName, tonumber(one.ts)) ~= false
    keysInCall[one.keyName] = true
  end
  if not repeated then
    if idsInCall[one.id] or redis.call('EXISTS', dkey(one.id)) == 1 then
      return redis.error_reply('Delivery ' .. one.id .. ' already exists')
    end
    idsInCall[one.id] = true
  end
end
local results = {}
for k = 1, count do
  local one = input(k)
  local first = false
  if one.hasKey then first = heldResult(one.keyName, tonumber(one.ts)) end
  if first then
    results[k] = {1, first}
  else
    createDelivery(one.id, one.recipient, one.kind, false, false, false, one.body, one.ts, one.expiresAt, one.receipt)
    if one.hasKey then rememberKey(one.keyName, one.keyExpiresAt, one.snapshot, window) end
    results[k] = {0}
  end
end
return results
`

/** ARGV: recipient, channel. Returns 1 when the subscription is new. */
const SUBSCRIBE = `${PRELUDE}
if redis.call('SADD', base .. 'SUB:' .. ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', base .. 'RSUB:' .. ARGV[1], ARGV[2])
redis.call('INCR', base .. 'subcount')
return 1
`

/** ARGV: recipient, channel. Returns 1 when the subscription existed. */
const UNSUBSCRIBE = `${PRELUDE}
if redis.call('SREM', base .. 'SUB:' .. ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SREM', base .. 'RSUB:' .. ARGV[1], ARGV[2])
redis.call('DECR', base .. 'subcount')
return 1
`

/**
 * ARGV: recipient, now, limit, scanLimit. Walks the recipient's pending deliveries in due order and
 * returns (as HGETALL field lists) up to limit of those due and not expired, looking at scanLimit at most.
 */
const DUE = `${PRELUDE}
local orderKey = base .. 'O:' .. ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local scanLimit = tonumber(ARGV[4])
local found = {}
local start = 0
while #found < limit and start < scanLimit do
  local members = redis.call('ZRANGE', orderKey, start, start + 99)
  if #members == 0 then break end
  for _, member in ipairs(members) do
    local id = string.sub(member, 35)
    local times = redis.call('HMGET', dkey(id), 'n', 'x')
    if tonumber(times[1]) <= now and tonumber(times[2]) > now then
      found[#found + 1] = redis.call('HGETALL', dkey(id))
      if #found >= limit then break end
    end
  end
  start = start + 100
end
return found
`

/** ARGV: ids. Pending ones go in flight; every live one counts an attempt. */
const MARK_SENT = `${PRELUDE}
for _, id in ipairs(ARGV) do
  local d = redis.call('HMGET', dkey(id), 's', 'r', 'm')
  if d[1] == 'pending' then
    removePending(id, d[2], d[3])
    redis.call('SADD', base .. 'I', id)
    redis.call('HSET', dkey(id), 's', 'inflight')
  end
  if d[1] == 'pending' or d[1] == 'inflight' then redis.call('HINCRBY', dkey(id), 'a', 1) end
end
return 0
`

const RELEASE_ONE = `
local function release(id)
  local d = redis.call('HMGET', dkey(id), 's', 'r', 'c', 'n', 'm')
  if d[1] ~= 'inflight' then return 0 end
  redis.call('SREM', base .. 'I', id)
  redis.call('HSET', dkey(id), 's', 'pending')
  addPending(id, d[2], d[3], d[4], d[5])
  return 1
end
`

/** ARGV: ids. In-flight ones go back to pending. */
const RELEASE = `${PRELUDE}${RELEASE_ONE}
for _, id in ipairs(ARGV) do release(id) end
return 0
`

/** Every in-flight delivery goes back to pending; returns how many. */
const RELEASE_ALL = `${PRELUDE}${RELEASE_ONE}
local released = 0
for _, id in ipairs(redis.call('SMEMBERS', base .. 'I')) do released = released + release(id) end
return released
`

/** ARGV: prefix, limit. The distinct recipients starting with prefix among live deliveries, at most limit. */
const LIVE_RECIPIENTS = `${PRELUDE}
local prefix = ARGV[1]
local limit = tonumber(ARGV[2])
local seen = {}
local found = {}
for _, id in ipairs(redis.call('ZRANGE', base .. 'A', 0, -1)) do
  local r = redis.call('HGET', dkey(id), 'r')
  if r and not seen[r] and string.sub(r, 1, #prefix) == prefix then
    seen[r] = true
    found[#found + 1] = r
    if #found >= limit then break end
  end
end
return found
`

/** ARGV: recipient, ids. Deletes the recipient's live ones; returns their field lists. */
const ACK = `${PRELUDE}
local recipient = ARGV[1]
local settled = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('SISMEMBER', base .. 'L:' .. recipient, id) == 1 then
    local fields = redis.call('HGETALL', dkey(id))
    local d = redis.call('HMGET', dkey(id), 's', 'm')
    removeLive(id, recipient, d[1], d[2])
    redis.call('DEL', dkey(id))
    settled[#settled + 1] = fields
  end
end
return settled
`

/**
 * ARGV: recipient, id, mode ('retry' | 'dead'), retryAt or reason, hasError, error, now.
 * Returns the updated field list, or nil when the recipient has no such live delivery.
 */
const FAIL = `${PRELUDE}
local recipient, id, mode, target, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[7]
if redis.call('SISMEMBER', base .. 'L:' .. recipient, id) == 0 then return false end
local d = redis.call('HMGET', dkey(id), 's', 'c', 'm')
redis.call('HINCRBY', dkey(id), 'f', 1)
if ARGV[5] == '1' then redis.call('HSET', dkey(id), 'l', ARGV[6]) else redis.call('HDEL', dkey(id), 'l') end
if mode == 'retry' then
  redis.call('HSET', dkey(id), 's', 'pending', 'n', target)
  if d[1] == 'inflight' then
    redis.call('SREM', base .. 'I', id)
    addPending(id, recipient, d[2], target, d[3])
  else
    redis.call('ZADD', base .. 'N:' .. recipient, target, id)
  end
else
  removeLive(id, recipient, d[1], d[3])
  redis.call('HSET', dkey(id), 's', 'dead', 'dr', target, 'da', now)
  redis.call('ZADD', base .. 'X', now, id)
end
return redis.call('HGETALL', dkey(id))
`

/** ARGV: now, batch. Removes up to batch live deliveries with expiresAt <= now; returns their field lists. */
const EXPIRE = `${PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', base .. 'A', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local expired = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', dkey(id))
  local d = redis.call('HMGET', dkey(id), 's', 'r', 'm')
  removeLive(id, d[2], d[1], d[3])
  redis.call('DEL', dkey(id))
  expired[#expired + 1] = fields
end
return expired
`

const SCRIPTS = {
  parleyPublish: PUBLISH,
  parleyReadStream: READ_STREAM,
  parleyTrimStreams: TRIM_STREAMS,
  parleyTrimKeys: TRIM_KEYS,
  parleySend: SEND,
  parleySubscribe: SUBSCRIBE,
  parleyUnsubscribe: UNSUBSCRIBE,
  parleyDue: DUE,
  parleyMarkSent: MARK_SENT,
  parleyRelease: RELEASE,
  parleyReleaseAll: RELEASE_ALL,
  parleyLiveRecipients: LIVE_RECIPIENTS,
  parleyAck: ACK,
  parleyFail: FAIL,
  parleyExpire: EXPIRE,
  parleyListDead: LIST_DEAD,
  parleyPurgeDead: PURGE_DEAD,
  parleyRequeue: REQUEUE,
} as const

export type ScriptName = keyof typeof SCRIPTS

/** Runs one script: the key base is its only key, the arguments its ARGV. */
export type RunScript = (name: ScriptName, base: string, args: (string | number)[]) => Promise<unknown>

/** Defines the scripts on a connection (EVALSHA, falling back to EVAL once per script). */
export function defineScripts(redis: Redis): RunScript {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  const commands = redis as unknown as Record<
    ScriptName,
    (base: string, ...args: (string | number)[]) => Promise<unknown>
  >
  return (name, base, args) => commands[name].call(redis, base, ...args)
}
