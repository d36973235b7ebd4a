-- A retry with an Idempotency-Key replays notifications that may be in doubt.
-- KEYS[1] the in-doubt hash; ARGV the replayed notification ids.
-- Returns, per id: 1 adopted (it was in doubt and is not any more: the caller enqueues it),
-- -1 being deleted (the caller answers 503; its next retry finds no key and writes anew), 0 not in doubt.
local result = {}
for i, id in ipairs(ARGV) do
  local value = redis.call('HGET', KEYS[1], id)
  if not value then
    result[i] = 0
  elseif string.sub(value, 1, 9) == 'deleting:' then
    result[i] = -1
  else
    redis.call('HDEL', KEYS[1], id)
    result[i] = 1
  end
end
return result
