-- Admits a delivery. KEYS: inFlight, circuit, probe, waiting.
-- ARGV: now, cap, member (the job id), leaseMs, threshold, parkTtlMs.
-- Returns {admitted (1/0), waitMs, reason, handedTo}: an open circuit answers at once (the caller
-- records the attempt as circuit_open and gives any handed lease on); a full callback parks the job.
local now, cap, member, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local failures = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
local probing = false
if failures >= tonumber(ARGV[5]) then
  local openUntil = tonumber(redis.call('HGET', KEYS[2], 'openUntil') or '0')
  local reason = nil
  if now < openUntil then reason = 'circuit_open'
  elseif not redis.call('SET', KEYS[3], member, 'NX', 'PX', leaseMs) then reason = 'circuit_probing' end
  if reason then
    redis.call('ZREM', KEYS[4], member)
    if redis.call('ZREM', KEYS[1], member) == 1 then return {0, math.max(openUntil - now, 0), reason, handOver(now, cap, leaseMs)} end
    return {0, math.max(openUntil - now, 0), reason, ''}
  end
  probing = true
end
if redis.call('ZSCORE', KEYS[1], member) then
  redis.call('ZADD', KEYS[1], now + leaseMs, member)
  redis.call('PEXPIRE', KEYS[1], leaseMs)
  return {1, 0, '', ''}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- A newcomer does not overtake parked jobs: a slot freed by an expired lease goes to the first of them.
local full = redis.call('ZCARD', KEYS[1]) >= cap
if full or (redis.call('ZCARD', KEYS[4]) > 0 and not redis.call('ZSCORE', KEYS[4], member)) then
  if probing then redis.call('DEL', KEYS[3]) end
  redis.call('ZADD', KEYS[4], 'NX', now, member)
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
  if full then return {0, 0, 'in_flight_cap', ''} end
  return {0, 0, 'in_flight_cap', handOver(now, cap, leaseMs)}
end
redis.call('ZREM', KEYS[4], member)
redis.call('ZADD', KEYS[1], now + leaseMs, member)
redis.call('PEXPIRE', KEYS[1], leaseMs)
return {1, 0, '', ''}
