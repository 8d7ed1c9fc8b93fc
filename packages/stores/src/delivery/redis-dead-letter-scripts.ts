import { PRELUDE } from './redis-script-prelude.js'

/** The dead-letter scripts of the Redis delivery backend: list, purge and requeue (keys: redis-scripts.ts). */

const DEAD_FILTER = `
local function matches(id, recipient, channel, kind)
  local d = redis.call('HMGET', dkey(id), 'r', 'ch', 'k')
  if recipient ~= '' and d[1] ~= string.sub(recipient, 2) then return false end
  if channel ~= '' and d[2] ~= string.sub(channel, 2) then return false end
  if kind ~= '' and d[3] ~= string.sub(kind, 2) then return false end
  return true
end
`

/**
 * ARGV: maxDeadAt ('+inf' or the cursor's), cursorId ('' for none), recipient, channel, kind (each '' for
 * any, else '=' + value), want. Dead letters newest first by (deadAt, id), after the cursor, matching the
 * filter: up to want field lists.
 */
export const LIST_DEAD = `${PRELUDE}${DEAD_FILTER}
local cursorDeadAt = tonumber(ARGV[1])
local cursorId = ARGV[2]
local want = tonumber(ARGV[6])
local found = {}
local offset = 0
while #found < want do
  local page = redis.call('ZREVRANGEBYSCORE', base .. 'X', ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', offset, 200)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local id = page[i]
    local after = cursorId == '' or tonumber(page[i + 1]) < cursorDeadAt or id < cursorId
    if after and matches(id, ARGV[3], ARGV[4], ARGV[5]) then
      found[#found + 1] = redis.call('HGETALL', dkey(id))
      if #found >= want then break end
    end
  end
  offset = offset + 200
end
return found
`

/** ARGV: id ('' for a filter), recipient, channel, kind (as in LIST_DEAD). Returns how many were deleted. */
export const PURGE_DEAD = `${PRELUDE}${DEAD_FILTER}
local function purge(id)
  redis.call('DEL', dkey(id))
  redis.call('ZREM', base .. 'X', id)
end
if ARGV[1] ~= '' then
  if redis.call('ZSCORE', base .. 'X', ARGV[1]) then purge(ARGV[1]); return 1 end
  return 0
end
local purged = 0
for _, id in ipairs(redis.call('ZRANGE', base .. 'X', 0, -1)) do
  if matches(id, ARGV[2], ARGV[3], ARGV[4]) then purge(id); purged = purged + 1 end
end
return purged
`

/** ARGV: id, now, expiresAt. A dead letter becomes pending again; returns its field list, or nil. */
export const REQUEUE = `${PRELUDE}
local id, now, expiresAt = ARGV[1], ARGV[2], ARGV[3]
if not redis.call('ZSCORE', base .. 'X', id) then return false end
redis.call('ZREM', base .. 'X', id)
local d = redis.call('HMGET', dkey(id), 'r', 'c', 'o')
local m = orderMember(tonumber(d[3] or '0'), id)
redis.call('HSET', dkey(id), 's', 'pending', 'f', 0, 'n', now, 'x', expiresAt, 'm', m, 'rqa', now,
  'rqb', redis.call('HGET', dkey(id), 'a') or '0')
redis.call('HINCRBY', dkey(id), 'rq', 1)
redis.call('HDEL', dkey(id), 'dr', 'da')
addLive(id, d[1], d[2], expiresAt, now, m)
return redis.call('HGETALL', dkey(id))
`
