// Lua scripts, run with EVALSHA (ioredis defineCommand falls back to EVAL on NOSCRIPT, which also loads them).
// Each touches only keys of one channel (one hash tag, so one cluster slot), and runs atomically.

/**
 * A channel's epoch is `<server stamp>-<random>`: the stamp (server-id.ts) names the Redis server term that
 * created it. Sets `epoch` to the channel's epoch, or to nil when the keys are gone or the epoch belongs to another
 * server term than the caller's (`stampArg`): asynchronous replication may have lost this channel's last writes on
 * a failover, so its offsets could be reissued; a new epoch (offset and history reset) makes every subscriber
 * resync instead of skipping them as duplicates. The fast path is one GET and a prefix compare.
 * `adoptArg` (cluster: the previous owner of a slot the caller saw migrate between two live masters, "" otherwise):
 * MIGRATE moved the keys whole, so the epoch is kept and KEYS[4] records that this term adopted it (refreshed by
 * publishes; the epoch string cannot change, subscribers hold it). Sets `adopted` when that record was used.
 */
const readEpoch = (stampArg: string, adoptArg: string, ttlArg: string) => `
local epoch = redis.call('GET', KEYS[2])
local adopted = false
if epoch and string.sub(epoch, 1, #${stampArg} + 1) ~= ${stampArg} .. '-' then
  local record = redis.call('GET', KEYS[4])
  if record == ${stampArg} then
    adopted = true
  elseif ${adoptArg} ~= '' and (record == ${adoptArg} or string.sub(epoch, 1, #${adoptArg} + 1) == ${adoptArg} .. '-') then
    redis.call('SET', KEYS[4], ${stampArg}, 'EX', ${ttlArg})
    adopted = true
  else
    epoch = nil
  end
end`;

/**
 * publish: epoch (created with the caller's candidate, stamp-prefixed, when the channel's keys are gone or were written by
 * another server term, see readEpoch; the old offset and history go with it), INCR offset, XADD to the capped stream
 * with id `<offset>-0`, refresh TTLs, then PUBLISH/SPUBLISH the compact payload (payload.ts) in the same
 * atomic step.
 * KEYS: offset, epoch, history, adoption record. ARGV: pubsub channel, data, publishedAt, candidate epoch
 * (`<stamp>-<random>`), history size, ttl seconds, "1" for SPUBLISH, server stamp, adoptable previous server stamp
 * or "". Returns {offset, epoch}.
 */
export const PUBLISH_SCRIPT = `
${readEpoch("ARGV[8]", "ARGV[9]", "ARGV[6]")}
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[2], epoch)
elseif adopted then
  redis.call('EXPIRE', KEYS[4], ARGV[6])
end
local offset = redis.call('INCR', KEYS[1])
local id = string.format('%d', offset)
local size = tonumber(ARGV[5])
if size > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', size, id .. '-0', 'd', ARGV[2], 't', ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
local payload = 'm' .. id .. '|' .. epoch .. '|' .. ARGV[3] .. '|' .. ARGV[2]
if ARGV[7] == '1' then
  redis.call('SPUBLISH', ARGV[1], payload)
else
  redis.call('PUBLISH', ARGV[1], payload)
end
return {offset, epoch}
`;

/**
 * history: one consistent snapshot of {offset, epoch, entries after since}. A channel without keys (or with keys
 * another server term wrote, see readEpoch) gets its new epoch now (with the TTL), so the epoch a subscriber is acked stays the
 * one later publishes use.
 * Every entry after since is read, not the reader's own history size: pods of different sizes (mid-rollout) share
 * one stream, capped by its writers' MAXLEN, and a read cut at the reader's size would end before the position.
 * KEYS: offset, epoch, history, adoption record. ARGV: since, "1" to read entries ("0": position only), candidate
 * epoch, ttl seconds, server stamp, adoptable previous server stamp or "".
 * Returns {offset, epoch, [[id, [field, value, ...]], ...]}.
 */
export const HISTORY_SCRIPT = `
${readEpoch("ARGV[5]", "ARGV[6]", "ARGV[4]")}
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[2], epoch, 'EX', ARGV[4])
  return {0, epoch, {}}
end
local offset = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
local entries = {}
if ARGV[2] == '1' and since < offset then
  entries = redis.call('XRANGE', KEYS[3], string.format('%d', since + 1) .. '-0', '+')
end
return {offset, epoch, entries}
`;

/**
 * presence join/refresh: add members to this node's hash for the channel, push the node's expiry in the node set,
 * and announce each join on the channel's pub/sub channel.
 * KEYS: node set, node hash. ARGV: node, expiry ms (absolute), ttl ms, pubsub channel, "1" for SPUBLISH,
 * then pairs of (connectionId, member JSON, join payload or "").
 */
export const PRESENCE_JOIN_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
for i = 6, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then
    if ARGV[5] == '1' then redis.call('SPUBLISH', ARGV[4], ARGV[i + 2]) else redis.call('PUBLISH', ARGV[4], ARGV[i + 2]) end
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
`;

/**
 * presence leave: remove a member from this node's hash and announce it (unless the payload is "").
 * KEYS: node hash. ARGV: connectionId, pubsub channel, "1" for SPUBLISH, leave payload or "".
 */
export const PRESENCE_LEAVE_SCRIPT = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed == 1 and ARGV[4] ~= '' then
  if ARGV[3] == '1' then redis.call('SPUBLISH', ARGV[2], ARGV[4]) else redis.call('PUBLISH', ARGV[2], ARGV[4]) end
end
return removed
`;

/**
 * presence list: the members of every node whose expiry has not passed; expired nodes are dropped from the set.
 * KEYS: node set. ARGV: now ms, node hash key prefix (the node id is appended; same hash tag, same slot).
 * Returns a flat list of member JSON.
 */
export const PRESENCE_LIST_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local nodes = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, node in ipairs(nodes) do
  local values = redis.call('HVALS', ARGV[2] .. node)
  for _, v in ipairs(values) do out[#out + 1] = v end
end
return out
`;
