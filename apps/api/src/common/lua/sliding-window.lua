-- Takes one request from a budget of ARGV[3] per ARGV[2] ms, counted in one-second buckets (a hash:
-- field = the second, value = requests taken in it), so the window slides by the second and a key
-- holds at most window/1000 + 1 fields whatever the limit. A refused request takes nothing.
-- KEYS[1] the budget's hash; ARGV[1] now (ms), ARGV[2] the window (ms, whole seconds), ARGV[3] the limit.
-- Returns {1, 0} when taken, {0, ms until enough of the oldest requests have left the window}.
local now, windowMs, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local second = math.floor(now / 1000)
local seconds = windowMs / 1000
-- The window: this second and the seconds-1 before it.
local first = second - seconds + 1
local buckets = redis.call('HGETALL', KEYS[1])
local counts = {}
local kept = {}
local total = 0
for i = 1, #buckets, 2 do
  local at = tonumber(buckets[i])
  if at < first then
    redis.call('HDEL', KEYS[1], buckets[i])
  else
    local count = tonumber(buckets[i + 1])
    counts[at] = count
    kept[#kept + 1] = at
    total = total + count
  end
end
if total < limit then
  redis.call('HINCRBY', KEYS[1], second, 1)
  redis.call('PEXPIRE', KEYS[1], windowMs + 1000)
  return {1, 0}
end
-- Refused: free once the oldest seconds holding (total - limit + 1) requests have left the window.
table.sort(kept)
local leaving = 0
for _, at in ipairs(kept) do
  leaving = leaving + counts[at]
  if total - leaving < limit then return {0, (at + seconds) * 1000 - now} end
end
return {0, windowMs}
