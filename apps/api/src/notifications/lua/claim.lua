-- The resolver claims committed in-doubt notifications before it deletes their rows.
-- KEYS[1] the in-doubt hash; ARGV[1] now (ms); ARGV[2] how long a claim holds (ms); ARGV[3..] ids.
-- Returns the ids claimed: still in doubt (not adopted meanwhile), or claimed by a resolver that
-- did not finish within the claim's time.
local claimed = {}
local now = tonumber(ARGV[1])
for i = 3, #ARGV do
  local id = ARGV[i]
  local value = redis.call('HGET', KEYS[1], id)
  if value then
    local stale = string.sub(value, 1, 9) == 'deleting:' and tonumber(string.sub(value, 10)) + tonumber(ARGV[2]) < now
    if stale or string.sub(value, 1, 9) ~= 'deleting:' then
      redis.call('HSET', KEYS[1], id, 'deleting:' .. ARGV[1])
      claimed[#claimed + 1] = id
    end
  end
end
return claimed
