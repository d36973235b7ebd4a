-- Functions shared by the guard's scripts, prepended to each when loaded.
-- KEYS (every script): 1 inFlight, 2 circuit, 3 probe, 4 waiting, 5 handed, 6 starts, 7 parkedCallbacks,
-- and 8 started in the scripts that admit (see callbackKeys in @callbacks/queue). A slot is taken by a lease in inFlight (scored by its
-- expiry) or by a hand-over in handed (scored by when that job may start): a handed slot is the
-- parked job's until it runs (its lease starts at pick-up), however long its queue's wait list is.
-- starts logs when attempts started (or are reserved to start), for ratePerSecond: it plans.
-- started logs when attempts were actually sent (start-attempt.lua): it enforces. A job picked up later than its
-- reserved start (a busy queue) would otherwise start within a second of the starts reserved after it.

local function slotsTaken(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[5])
end

-- When the next attempt may start: now, or, with `rate` attempts a second, 1 s after the start
-- `rate` places back (reservations in the future included), so no 1-s window holds more than `rate`.
local function nextStart(now, rate)
  if rate <= 0 then return now end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - 1000)
  local count = redis.call('ZCARD', KEYS[6])
  if count < rate then return now end
  local bound = redis.call('ZRANGE', KEYS[6], count - rate, count - rate, 'WITHSCORES')
  return math.max(now, tonumber(bound[2]) + 1000)
end

local function recordStart(now, at, member, rate)
  if rate <= 0 then return end
  redis.call('ZADD', KEYS[6], at, at .. ':' .. member)
  -- The log outlives its latest start by a window (never shortened: it may hold later reservations).
  local ttl = at - now + 2000
  if redis.call('PTTL', KEYS[6]) < ttl then redis.call('PEXPIRE', KEYS[6], ttl) end
end

-- Gives one free slot to the first parked job. Returns {jobId, startAt}: {'', 0} when the callback
-- is still full or nobody waits; startAt > now when the rate makes it wait (the caller wakes the job then).
local function handOver(now, cap, rate, parkTtlMs)
  if slotsTaken(now) >= cap then return {'', 0} end
  local next = redis.call('ZPOPMIN', KEYS[4])
  if #next == 0 then return {'', 0} end
  redis.call('PEXPIRE', KEYS[4], parkTtlMs)
  local at = nextStart(now, rate)
  redis.call('ZADD', KEYS[5], at, next[1])
  redis.call('PEXPIRE', KEYS[5], parkTtlMs)
  recordStart(now, at, next[1], rate)
  return {next[1], at}
end
