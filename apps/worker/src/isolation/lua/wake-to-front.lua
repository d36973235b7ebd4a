-- Moves a delayed job to the front of its queue's wait list (the end workers take from: BullMQ's
-- promote LPUSHes, to the back, and workers RPOPLPUSH), so a woken parked delivery does not queue
-- behind unrelated work. Same effects as BullMQ's promote otherwise (marker, event, delay 0).
-- KEYS: delayed, wait, meta, active, events, marker (the job's queue). ARGV: job key, job id.
-- Returns 0, -3 when the job is not delayed, -4 when it has a priority (the caller promotes it).
local jobId = ARGV[2]
if tonumber(redis.call('HGET', ARGV[1], 'priority') or '0') ~= 0 then return -4 end
if redis.call('ZREM', KEYS[1], jobId) == 0 then return -3 end
redis.call('RPUSH', KEYS[2], jobId)
local meta = redis.call('HMGET', KEYS[3], 'paused', 'concurrency')
local pausedOrMaxed = meta[1] or (meta[2] and redis.call('LLEN', KEYS[4]) >= tonumber(meta[2]))
if not pausedOrMaxed then redis.call('ZADD', KEYS[6], 0, '0') end
redis.call('XADD', KEYS[5], '*', 'event', 'waiting', 'jobId', jobId, 'prev', 'delayed')
redis.call('HSET', ARGV[1], 'delay', 0)
return 0
