#pragma once

// The Lua scripts of the Redis store. Each touches the keys of one user only (one hash slot),
// so it runs atomically on that user's node, clustered or not. Times are passed as decimal
// strings and compared as Lua numbers (exact up to 2^53 ms).

#include <string>

namespace signalbox::redis_scripts {

// KEYS: events, bodies, ids, tiles, commits. ARGV: the commit's token (16 random bytes, one
// per commit call), how long tokens are kept (ms), n, then per event its id hash, ts,
// keep_raw (1/0), event member and encoded bytes, then m, then per tile delta its tile field
// and value.
// A commit sent again after its first send was written (the reply was lost or late, and the
// client sent it once more) finds its token among the user's recent commits and writes
// nothing: {1, raw events it wrote, operands pending}, as the first send answered. Otherwise
// checks every id first and writes nothing when one is already there: {0, duplicate
// indexes}. Otherwise writes the events, ids and tile operands and records the token (score:
// the server's time, dropped after the keep time, the key with them): {1, raw events
// written, operands pending in the user's tiles}.
inline constexpr char kCommit[] = R"lua(
local token, keep = ARGV[1], tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (now - keep))
if redis.call('ZSCORE', KEYS[5], token) then
  local raw = 0
  for k = 0, n - 1 do
    if ARGV[6 + k * 5] == '1' then raw = raw + 1 end
  end
  local ops = 0
  if tonumber(ARGV[4 + n * 5]) > 0 then ops = tonumber(redis.call('HGET', KEYS[4], '#ops') or '0') end
  return {1, raw, ops}
end
local dups = {}
for k = 0, n - 1 do
  if redis.call('ZSCORE', KEYS[3], ARGV[4 + k * 5]) then dups[#dups + 1] = k end
end
if #dups > 0 then return {0, dups} end
local raw = 0
for k = 0, n - 1 do
  local at = 4 + k * 5
  redis.call('ZADD', KEYS[3], ARGV[at + 1], ARGV[at])
  if ARGV[at + 2] == '1' then
    redis.call('ZADD', KEYS[1], ARGV[at + 1], ARGV[at + 3])
    redis.call('HSET', KEYS[2], ARGV[at + 3], ARGV[at + 4])
    raw = raw + 1
  end
end
local at = 4 + n * 5
local m = tonumber(ARGV[at])
local ops = 0
for k = 1, m do
  local seq = redis.call('HINCRBY', KEYS[4], '#seq', 1)
  redis.call('HSET', KEYS[4], ARGV[at + 2 * k - 1] .. ':' .. seq, ARGV[at + 2 * k])
end
if m > 0 then ops = redis.call('HINCRBY', KEYS[4], '#ops', m) end
redis.call('ZADD', KEYS[5], now, token)
redis.call('PEXPIRE', KEYS[5], keep)
return {1, raw, ops}
)lua";

// A part of the read scripts below: the encoded events of `members` into `bodies` ('' for
// one gone), from the bodies hash KEYS[2], 256 members to an HMGET: a call per member was
// most of a read's time for a user of a few thousand events (Lua's unpack is bounded, hence
// not one call).
inline constexpr char kBodiesOfMembers[] = R"lua(
local bodies = {}
local n = #members
for first = 1, n, 256 do
  local got = redis.call('HMGET', KEYS[2], unpack(members, first, math.min(first + 255, n)))
  for k, body in ipairs(got) do bodies[first + k - 1] = body or '' end
end
)lua";

// KEYS: events, bodies, tiles. ARGV: the most raw events read with the tiles (0: any number).
// One user's data at once: {event members by (ts, id), their encoded bytes, the tile hash as
// field, value, ..., the number of raw events, 1 when the events are those members}. A user
// of more raw events gets its tile hash and their number only (members and bodies empty, 0):
// a query reads a few hours of them (kReadEvents), where a heavy user holds days of them.
inline const std::string kReadUser = std::string(R"lua(
local count = redis.call('ZCARD', KEYS[1])
local most = tonumber(ARGV[1])
if most > 0 and count > most then
  return {{}, {}, redis.call('HGETALL', KEYS[3]), count, 0}
end
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
)lua") + kBodiesOfMembers + R"lua(
return {members, bodies, redis.call('HGETALL', KEYS[3]), count, 1}
)lua";

// KEYS: events, bodies, tiles. ARGV: from, to (ts, both included), then what kReadUser found
// of the user: its number of raw events, the tile hash's #seq and #expired ('' when absent).
// The user's raw events in [from, to] as {1, members by (ts, id), their encoded bytes}, or {0}
// when the user changed since that read: a commit raises #seq by its tile operands and adds
// raw events, an expiry raises #expired and drops them, a deleted user loses its tile hash.
// (A commit of raw events that no state takes, and so no operand, changes the count.)
inline const std::string kReadEvents = std::string(R"lua(
if redis.call('ZCARD', KEYS[1]) ~= tonumber(ARGV[3])
   or (redis.call('HGET', KEYS[3], '#seq') or '') ~= ARGV[4]
   or (redis.call('HGET', KEYS[3], '#expired') or '') ~= ARGV[5] then
  return {0}
end
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])
)lua") + kBodiesOfMembers + R"lua(
return {1, members, bodies}
)lua";

// KEYS: tiles. ARGV: c, the operand fields merged, then b, then per tile field rewritten:
// field, value expected now ('' when absent), new value ('' to delete). Applies only when
// every merged operand is still there and every rewritten field holds what was read (a
// concurrent rewrite of the same tiles wins otherwise): 1 applied, 0 not. Operands
// appended meanwhile are new fields, untouched. An applied rewrite raises the hash's #rev, so
// that a reader's tile version (RedisSnapshot::tile_version) moves with it.
inline constexpr char kRewriteTiles[] = R"lua(
local c = tonumber(ARGV[1])
for k = 1, c do
  if redis.call('HEXISTS', KEYS[1], ARGV[1 + k]) == 0 then return 0 end
end
local at = 2 + c
local b = tonumber(ARGV[at])
for k = 0, b - 1 do
  local now = redis.call('HGET', KEYS[1], ARGV[at + 1 + k * 3]) or ''
  if now ~= ARGV[at + 2 + k * 3] then return 0 end
end
for k = 1, c do redis.call('HDEL', KEYS[1], ARGV[1 + k]) end
for k = 0, b - 1 do
  local field, value = ARGV[at + 1 + k * 3], ARGV[at + 3 + k * 3]
  if value == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, value) end
end
if c > 0 then redis.call('HINCRBY', KEYS[1], '#ops', -c) end
redis.call('HINCRBY', KEYS[1], '#rev', 1)
return 1
)lua";

// KEYS: events, bodies, ids, tiles. ARGV: raw horizon, id horizon. Drops raw events and ids
// at or before them, and raises the tile hash's #expired to the raw horizon, in the same
// step: a reader of the user learns how far its data has been expired (a snapshot whose
// horizons were read before this raises them, see RedisSnapshot). Returns {raw events
// dropped, raw events left}.
inline constexpr char kExpireUser[] = R"lua(
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, m in ipairs(gone) do redis.call('HDEL', KEYS[2], m) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
local was = redis.call('HGET', KEYS[4], '#expired')
if not was or tonumber(ARGV[1]) > tonumber(was) then redis.call('HSET', KEYS[4], '#expired', ARGV[1]) end
return {#gone, redis.call('ZCARD', KEYS[1])}
)lua";

// KEYS: meta. ARGV: field, value pairs. Raises each field to its value when higher (absent
// counts as lowest): stream time and the horizons only move forward, whichever process
// writes. Returns the fields' values after.
inline constexpr char kRaise[] = R"lua(
local out = {}
for k = 1, #ARGV, 2 do
  local now = redis.call('HGET', KEYS[1], ARGV[k])
  if not now or tonumber(ARGV[k + 1]) > tonumber(now) then
    redis.call('HSET', KEYS[1], ARGV[k], ARGV[k + 1])
    now = ARGV[k + 1]
  end
  out[#out + 1] = now
end
return out
)lua";

// KEYS: meta, the recent counts (sorted set). ARGV: a token naming this change of the count
// (a commit's own token, or one drawn for it), how long tokens are kept (ms), the change.
// Adds the change to the meta hash's `events` unless the token is among the recent counts
// already (a send again after the first send's reply was lost or late), then records the
// token as the commit script does: 1 when added, 0 when the token was there.
inline constexpr char kCountEvents[] = R"lua(
local token, keep = ARGV[1], tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - keep))
if redis.call('ZSCORE', KEYS[2], token) then return 0 end
redis.call('HINCRBY', KEYS[1], 'events', ARGV[3])
redis.call('ZADD', KEYS[2], now, token)
redis.call('PEXPIRE', KEYS[2], keep)
return 1
)lua";

}  // namespace signalbox::redis_scripts
