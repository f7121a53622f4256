-- Membership: each gate's member id with the time it was last seen; members alive are those seen within the TTL.
-- KEYS: 1 members (zset member -> last seen ms). ARGV: 1 now ms, 2 ttl ms, 3 member, 4 '0' to be seen, '1' to leave,
-- '2' only to count (a member on its local share is not back until it has charged what it admitted alone).
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[3])
elseif ARGV[4] == '0' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(ARGV[1]) - tonumber(ARGV[2])))
return redis.call('ZCARD', KEYS[1])
