/**
 * The Lua prelude every script of the Redis delivery backend starts with: its key helpers and the moves of a
 * delivery between its indexes (see redis-scripts.ts for the keys and fields).
 */
export const PRELUDE = `
local base = KEYS[1]
local function dkey(id) return base .. 'D:' .. id end
local function addPending(id, r, c, n, m)
  redis.call('ZADD', base .. 'O:' .. r, c, m)
  redis.call('ZADD', base .. 'N:' .. r, n, id)
end
local function removePending(id, r, m)
  redis.call('ZREM', base .. 'O:' .. r, m)
  redis.call('ZREM', base .. 'N:' .. r, id)
end
local function addLive(id, r, c, x, n, m)
  redis.call('SADD', base .. 'L:' .. r, id)
  redis.call('ZADD', base .. 'A', x, id)
  addPending(id, r, c, n, m)
end
local function removeLive(id, r, s, m)
  redis.call('SREM', base .. 'L:' .. r, id)
  redis.call('ZREM', base .. 'A', id)
  if s == 'inflight' then redis.call('SREM', base .. 'I', id) else removePending(id, r, m) end
end
local function orderMember(offset, id)
  local seq = redis.call('INCR', base .. 'seq')
  return string.format('%016d:%016d:', offset, seq) .. id
end
local function createDelivery(id, r, kind, channel, offset, epoch, body, c, x, receipt)
  local m = orderMember(offset or 0, id)
  if channel then
    redis.call('HSET', dkey(id), 'id', id, 'b', body, 'k', kind, 'r', r, 'ch', channel, 'o', offset, 'e', epoch,
      'c', c, 'x', x, 'a', 0, 'f', 0, 'n', c, 's', 'pending', 'rc', receipt, 'm', m)
  else
    redis.call('HSET', dkey(id), 'id', id, 'b', body, 'k', kind, 'r', r,
      'c', c, 'x', x, 'a', 0, 'f', 0, 'n', c, 's', 'pending', 'rc', receipt, 'm', m)
  end
  addLive(id, r, c, x, c, m)
end
local function heldResult(keyName, now)
  local held = redis.call('GET', keyName)
  if not held then return false end
  local bar = string.find(held, '|', 1, true)
  if tonumber(string.sub(held, 1, bar - 1)) > now then return string.sub(held, bar + 1) end
  return false
end
local function rememberKey(keyName, expiresAt, result, window)
  if tonumber(window) <= 0 then return end
  redis.call('SET', keyName, expiresAt .. '|' .. result, 'PX', window)
  redis.call('ZADD', base .. 'KZ', expiresAt, keyName)
  redis.call('PEXPIRE', base .. 'KZ', window)
end
local function touchStream(channel, streamTtl, wallNow)
  local sk = base .. 'S:' .. channel
  local hk = base .. 'H:' .. channel
  if tonumber(streamTtl) > 0 then
    redis.call('PEXPIRE', sk, streamTtl)
    redis.call('PEXPIRE', hk, streamTtl)
    redis.call('ZADD', base .. 'streams', tonumber(wallNow) + tonumber(streamTtl), channel)
  else
    redis.call('PERSIST', sk)
    redis.call('PERSIST', hk)
    redis.call('ZADD', base .. 'streams', '+inf', channel)
  end
end
-- The stream's epoch and top; a missing stream (new, or its data gone) starts under the candidate epoch,
-- and any history left without its stream is dropped: offsets of another epoch must never be replayed.
local function ensureStream(channel, candidate, streamTtl, wallNow)
  local sk = base .. 'S:' .. channel
  local stream = redis.call('HMGET', sk, 'epoch', 'top')
  if stream[1] then return stream[1], tonumber(stream[2]) end
  redis.call('DEL', base .. 'H:' .. channel)
  redis.call('HSET', sk, 'epoch', candidate, 'top', 0)
  touchStream(channel, streamTtl, wallNow)
  return candidate, 0
end
-- Drops what is beyond size, then expired entries from the front; returns how many.
local function trimHistory(channel, size, ttl, now)
  local hk = base .. 'H:' .. channel
  local len = redis.call('LLEN', hk)
  if len == 0 then return 0 end
  if size <= 0 then
    redis.call('DEL', hk)
    return len
  end
  local removed = 0
  if len > size then
    redis.call('LTRIM', hk, len - size, -1)
    removed = len - size
    len = size
  end
  while len > 0 do
    local head = redis.call('LINDEX', hk, 0)
    local ts = tonumber(string.sub(head, 1, string.find(head, ':', 1, true) - 1))
    if ts + ttl > now then break end
    redis.call('LPOP', hk)
    removed = removed + 1
    len = len - 1
  end
  return removed
end
`
