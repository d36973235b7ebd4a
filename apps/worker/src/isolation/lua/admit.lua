-- Admits a delivery. KEYS: see hand-over.lua.
-- ARGV: now, cap, member (the job id), leaseMs, threshold, parkTtlMs, rate (0: none), callbackId.
-- Returns {admitted (1/0), waitMs, reason, handedTo, handedStartAt}:
-- - an open circuit answers at once (the caller records the attempt as circuit_open, and wakes the
--   job any slot this one held was handed to);
-- - a full callback, or one with jobs parked before this one, parks the job (in_flight_cap);
-- - over the rate, the first in line is handed a slot that starts when the rate allows
--   (rate_limited, waitMs until then): only it gets a timed wake, the jobs behind it wait parked;
-- - a handed job run before its start (rate_limited, waitMs) waits again until then, and so does
--   one whose start would put more than `rate` attempts sent in the last second (KEYS[8]).
local now, cap, member, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local parkTtlMs, rate = tonumber(ARGV[6]), tonumber(ARGV[7])
local failures = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
local probing = false
if failures >= tonumber(ARGV[5]) then
  local openUntil = tonumber(redis.call('HGET', KEYS[2], 'openUntil') or '0')
  local reason = nil
  if now < openUntil then reason = 'circuit_open'
  elseif not redis.call('SET', KEYS[3], member, 'NX', 'PX', leaseMs) then reason = 'circuit_probing' end
  if reason then
    redis.call('ZREM', KEYS[4], member)
    local held = redis.call('ZREM', KEYS[1], member) + redis.call('ZREM', KEYS[5], member)
    local handed = {'', 0}
    if held > 0 then handed = handOver(now, cap, rate, parkTtlMs) end
    return {0, 0, reason, handed[1], handed[2]}
  end
  probing = true
end
-- How long until an attempt may actually start: `rate` sent in the last second (start-attempt.lua logs
-- them as they are sent) is the most, so a delivery is not admitted only to wait for its start.
local function startedWait()
  if rate <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now - 1000)
  local count = redis.call('ZCARD', KEYS[8])
  if count < rate then return 0 end
  local bound = redis.call('ZRANGE', KEYS[8], count - rate, count - rate, 'WITHSCORES')
  return tonumber(bound[2]) + 1000 - now
end
local function lease()
  redis.call('ZADD', KEYS[1], now + leaseMs, member)
  redis.call('PEXPIRE', KEYS[1], leaseMs)
  return {1, 0, '', '', 0}
end
if redis.call('ZSCORE', KEYS[1], member) then return lease() end
local handedAt = redis.call('ZSCORE', KEYS[5], member)
if handedAt then
  handedAt = tonumber(handedAt)
  if handedAt > now then
    if probing then redis.call('DEL', KEYS[3]) end
    return {0, handedAt - now, 'rate_limited', '', 0}
  end
  local wait = startedWait()
  if wait > 0 then
    -- Its slot stays reserved; it starts when the last second has room.
    if probing then redis.call('DEL', KEYS[3]) end
    redis.call('ZADD', KEYS[5], now + wait, member)
    return {0, wait, 'rate_limited', '', 0}
  end
  redis.call('ZREM', KEYS[5], member)
  return lease()
end
-- A newcomer does not overtake parked jobs: a slot freed by an expired lease goes to the first of them.
local full = slotsTaken(now) >= cap
if full or (redis.call('ZCARD', KEYS[4]) > 0 and not redis.call('ZSCORE', KEYS[4], member)) then
  if probing then redis.call('DEL', KEYS[3]) end
  redis.call('ZADD', KEYS[4], 'NX', now, member)
  redis.call('PEXPIRE', KEYS[4], parkTtlMs)
  redis.call('SADD', KEYS[7], ARGV[8])
  if full then return {0, 0, 'in_flight_cap', '', 0} end
  local handed = handOver(now, cap, rate, parkTtlMs)
  return {0, 0, 'in_flight_cap', handed[1], handed[2]}
end
redis.call('ZREM', KEYS[4], member)
local at = nextStart(now, rate)
if at == now then at = now + startedWait() end
recordStart(now, at, member, rate)
if at > now then
  if probing then redis.call('DEL', KEYS[3]) end
  redis.call('ZADD', KEYS[5], at, member)
  redis.call('PEXPIRE', KEYS[5], parkTtlMs)
  redis.call('SADD', KEYS[7], ARGV[8])
  return {0, at - now, 'rate_limited', '', 0}
end
return lease()
