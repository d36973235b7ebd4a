-- The reconciler's look, once per pass, at one callback with parked jobs. KEYS: see hand-over.lua.
-- ARGV: now, cap, rate, staleMs, parkTtlMs, callbackId.
-- Hands every free slot to the first parked jobs (a slot whose wake was lost: a worker died between
-- freeing it and waking the next job, or a lease ran out), and lists the handed jobs whose start is
-- more than staleMs past (their wake may have been lost; waking them again is harmless).
-- Returns a flat list: jobId, startAt, ... for new hand-overs, then '' and the stale job ids.
-- A callback that has nothing parked or handed leaves the shard's set of parked callbacks.
local now, cap, rate, staleMs, parkTtlMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local stale = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now - staleMs)
local result = {}
while true do
  local handed = handOver(now, cap, rate, parkTtlMs)
  if handed[1] == '' then break end
  table.insert(result, handed[1])
  table.insert(result, handed[2])
end
table.insert(result, '')
for _, jobId in ipairs(stale) do table.insert(result, jobId) end
if redis.call('ZCARD', KEYS[4]) == 0 and redis.call('ZCARD', KEYS[5]) == 0 then redis.call('SREM', KEYS[7], ARGV[6]) end
return result
