-- Gives the slot a delivery just gave up to the first parked job, and returns its id ('' when the
-- callback is still full or nobody waits). Prepended to admit.lua and release.lua when loaded.
-- KEYS: inFlight, circuit, probe, waiting (see callbackKeys in @callbacks/queue).
local function handOver(now, cap, leaseMs)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= cap then return '' end
  local next = redis.call('ZPOPMIN', KEYS[4])
  if #next == 0 then return '' end
  redis.call('ZADD', KEYS[1], now + leaseMs, next[1])
  redis.call('PEXPIRE', KEYS[1], leaseMs)
  return next[1]
end
