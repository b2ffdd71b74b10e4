// Runs on the main thread (with the cluster member). The Redis data layout of a fleet and the Lua
// scripts that update it atomically; docs/cluster.md describes both.

/** Keys of the presence index share a hash tag, so on Redis Cluster they live in one slot. */
export const KEY_SERVERS = 'enet:{fleet}:servers';
export const KEY_SERVER_PREFIX = 'enet:{fleet}:server:';
export const KEY_IDENTITY_PREFIX = 'enet:identity:';
/** Per-server channel: sendTo requests, their replies, kick notices. */
export const CHANNEL_SERVER_PREFIX = 'enet:to:';
/** Every server: cluster.broadcast. */
export const CHANNEL_ALL = 'enet:all';
export const CHANNEL_TOPIC_PREFIX = 'enet:topic:';

/**
 * Refreshes this server's presence and a batch of its identities. Times come from Redis (TIME), so
 * the index does not depend on the servers' clocks agreeing. An identity key that vanished (Redis
 * restarted, or it expired while this process stalled) is written again; one now holding another
 * server's value was taken over, and its index (1-based among the identities) is returned.
 * KEYS: servers, server key, identity keys…  ARGV: serverId, info JSON, ttlMs, identity values…
 */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local lost = {}
for i = 3, #KEYS do
  local mine = ARGV[i + 1]
  local current = redis.call('GET', KEYS[i])
  if current == mine then
    redis.call('PEXPIRE', KEYS[i], ttl)
  elseif not current then
    redis.call('SET', KEYS[i], mine, 'PX', ttl)
  else
    lost[#lost + 1] = i - 2
  end
end
return lost
`;

/**
 * Live servers' info: entries whose expiry passed are pruned from the index first; a server key
 * that expired before its index entry is skipped.
 * KEYS: servers.  ARGV: server key prefix.
 */
export const SERVERS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local info = redis.call('GET', ARGV[1] .. id)
  if info then out[#out + 1] = info end
end
return out
`;

/**
 * Claims an identity for a peer, applying the duplicate-login policy in one step (two servers
 * claiming at once cannot both win under 'reject-new', nor both miss the kick under 'kick-old').
 * Returns { claimed 0|1, previous value or '' }. Under 'kick-old' a previous holder on another
 * server is told on that server's channel.
 * KEYS: identity.  ARGV: value, ttlMs, policy, server channel prefix, kick notice, own serverId.
 */
export const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  if ARGV[3] == 'reject-new' then return {0, current} end
  local owner = string.match(current, '^([^\\n]*)')
  if ARGV[3] == 'kick-old' and owner ~= ARGV[6] then redis.call('PUBLISH', ARGV[4] .. owner, ARGV[5]) end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, current or ''}
`;

/** Deletes an identity only if it still names this peer (a newer login elsewhere keeps it). KEYS: identity.  ARGV: value. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * sendTo in one round trip: finds the identity's owner and, when it is another server, publishes
 * the request on its channel. Returns { value, receivers } or nil (no such identity); receivers 0
 * means the owner is not listening (it died and its keys have not expired yet).
 * KEYS: identity.  ARGV: server channel prefix, request, own serverId.
 */
export const ROUTE = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
local owner = string.match(value, '^([^\\n]*)')
if owner == ARGV[3] then return {value, 1} end
return {value, redis.call('PUBLISH', ARGV[1] .. owner, ARGV[2])}
`;

/** A server stopping: out of the index at once rather than after its TTL. KEYS: servers, server key.  ARGV: serverId. */
export const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
`;
