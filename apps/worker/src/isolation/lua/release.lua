-- Ends a delivery, or gives back a slot handed to a job that will not run (or is held behind its case). KEYS: see hand-over.lua.
-- ARGV: member, ok ('1', '0', or '' when nothing was sent), now, threshold, openMs, cap, rate, parkTtlMs.
-- Returns {circuit transition, handedTo, handedStartAt}.
local now, cap, rate, parkTtlMs = tonumber(ARGV[3]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
-- A job that leaves without being admitted (held behind its case) leaves the waiting list too.
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
local transition = 'ok'
local threshold = tonumber(ARGV[4])
if ARGV[2] == '1' then
  local was = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
  if was > 0 then
    redis.call('DEL', KEYS[2])
    if was >= threshold then transition = 'closed' end
  end
elseif ARGV[2] == '0' then
  local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
  redis.call('PEXPIRE', KEYS[2], 86400000)
  transition = 'degraded'
  if failures >= threshold then
    redis.call('HSET', KEYS[2], 'openUntil', now + tonumber(ARGV[5]))
    if failures == threshold then transition = 'opened' else transition = 'open' end
  end
end
local handed = handOver(now, cap, rate, parkTtlMs)
return {transition, handed[1], handed[2]}
