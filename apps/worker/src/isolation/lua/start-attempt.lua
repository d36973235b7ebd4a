-- Takes one of a callback's ratePerSecond starts, right before an attempt is sent, so that what the
-- partner receives holds to the rate however long admitted deliveries took to load and sign.
-- KEYS: started (see callbackKeys in @callbacks/queue). ARGV: now, rate, member (the job id).
-- Returns {0, startedAt} when the start is taken (and logged at startedAt, the attempt's recorded
-- start), else {milliseconds until one is free, 0}. Starts are logged in order: a worker whose clock
-- reads behind the last start logged (workers' calls cross on their way here) takes that start's
-- time, so every window of a second ending at a logged start holds at most `rate` of them.
local now, rate, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) > now then now = tonumber(last[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
local count = redis.call('ZCARD', KEYS[1])
if count >= rate then
  local bound = redis.call('ZRANGE', KEYS[1], count - rate, count - rate, 'WITHSCORES')
  return {math.max(1, tonumber(bound[2]) + 1000 - now), 0}
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. member)
redis.call('PEXPIRE', KEYS[1], 2000)
return {0, now}
