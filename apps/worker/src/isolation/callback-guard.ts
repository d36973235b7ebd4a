import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { callbackKeys, closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';

/*
 * Both scripts take KEYS inFlight, circuit, probe, waiting. A lease is a member of inFlight (the job
 * id) scored by its expiry, so a dead worker's slot frees itself. A slot given up by a delivery goes
 * straight to the longest-waiting parked job, which finds its lease already in place when it runs:
 * parked deliveries never poll, and new ones cannot overtake them.
 */

/** Gives the freed slot to the first parked job (ARGV: now, cap, leaseMs); returns its id or ''. */
const HAND_OVER = `
local function handOver(now, cap, leaseMs)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= cap then return '' end
  local next = redis.call('ZPOPMIN', KEYS[4])
  if #next == 0 then return '' end
  redis.call('ZADD', KEYS[1], now + leaseMs, next[1])
  redis.call('PEXPIRE', KEYS[1], leaseMs)
  return next[1]
end
`;

/**
 * Admits a delivery (ARGV now, cap, member, leaseMs, threshold, parkTtlMs). Returns
 * {admitted, waitMs, reason, handedTo}: an open circuit answers at once (the caller records the
 * attempt as circuit_open and gives any handed lease on); a full callback parks the job.
 */
const ADMIT = `${HAND_OVER}
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
`;

/**
 * Ends a delivery (ARGV member, ok ('1', '0', or '' when nothing was sent), now, threshold, openMs,
 * cap, leaseMs); returns {circuit transition, handedTo}.
 */
const RELEASE = `${HAND_OVER}
local now, cap, leaseMs = tonumber(ARGV[3]), tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('ZREM', KEYS[1], ARGV[1])
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
return {transition, handOver(now, cap, leaseMs)}
`;

export type HeldBackReason = 'circuit_open' | 'circuit_probing' | 'in_flight_cap';
/** `handedTo`: a parked job that the slot given up here now belongs to; the caller wakes it. */
export type Admission = { admitted: true } | { admitted: false; reason: HeldBackReason; handedTo: string | null };
export type CircuitTransition = 'ok' | 'degraded' | 'open' | 'opened' | 'closed';
/** A callback is one partner's registration for one notification type. */
export interface CallbackRef {
  partnerId: string;
  notificationTypeId: number;
}

type GuardRedis = RedisClient & {
  admitDelivery(
    inFlight: string,
    circuit: string,
    probe: string,
    waiting: string,
    ...args: Array<string | number>
  ): Promise<[number, number, string, string]>;
  releaseDelivery(
    inFlight: string,
    circuit: string,
    probe: string,
    waiting: string,
    ...args: Array<string | number>
  ): Promise<[CircuitTransition, string]>;
};

/**
 * Keeps one partner's broken or slow endpoint from costing the others, across every worker:
 * - at most CALLBACK_MAX_IN_FLIGHT deliveries to one callback at a time (leases in Redis that
 *   expire on their own if a worker dies). A delivery over the cap is parked: it waits, without
 *   running, in the callback's waiting list until a delivery ends and hands it its slot;
 * - a circuit breaker: CIRCUIT_FAILURE_THRESHOLD consecutive failures open it for CIRCUIT_OPEN_MS,
 *   then one probe is let through; a success closes it, a failure opens it again. An attempt that
 *   falls due while it is open is not sent: the caller records it as `circuit_open` and moves the
 *   schedule on, so a dead endpoint's backlog still ends within its schedule.
 */
@Injectable()
export class CallbackGuard implements OnApplicationShutdown {
  private readonly redis: GuardRedis;
  private readonly leaseMs: number;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Auto-pipelining sends the admits and releases of concurrent deliveries in one write.
    this.redis = createRedisClient(config, 'worker', { enableAutoPipelining: true }) as GuardRedis;
    this.redis.on('error', () => undefined); // the queue's own connection reports Redis trouble
    this.redis.defineCommand('admitDelivery', { numberOfKeys: 4, lua: ADMIT });
    this.redis.defineCommand('releaseDelivery', { numberOfKeys: 4, lua: RELEASE });
    this.leaseMs = config.deliveryTimeoutMs + 10_000;
  }

  /** `parkTtlMs`: how long the waiting list may outlive its last parked job. */
  async admit(callback: CallbackRef, jobId: string, parkTtlMs: number): Promise<Admission> {
    const [admitted, , reason, handedTo] = await this.redis.admitDelivery(
      ...this.keys(callback),
      Date.now(),
      this.config.callbackMaxInFlight,
      jobId,
      this.leaseMs,
      this.config.circuitFailureThreshold,
      parkTtlMs,
    );
    if (admitted === 1) return { admitted: true };
    return { admitted: false, reason: reason as HeldBackReason, handedTo: handedTo || null };
  }

  /** `ok` is whether the attempt succeeded; null when nothing was sent (the lease is only given on). */
  async release(
    callback: CallbackRef,
    jobId: string,
    ok: boolean | null,
  ): Promise<{ transition: CircuitTransition; handedTo: string | null }> {
    const result = ok === null ? '' : ok ? '1' : '0';
    const [transition, handedTo] = await this.redis.releaseDelivery(
      ...this.keys(callback),
      jobId,
      result,
      Date.now(),
      this.config.circuitFailureThreshold,
      this.config.circuitOpenMs,
      this.config.callbackMaxInFlight,
      this.leaseMs,
    );
    return { transition, handedTo: handedTo || null };
  }

  async holdsLease(callback: CallbackRef, jobId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys(callback)[0], jobId)) !== null;
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }

  private keys(callback: CallbackRef): [string, string, string, string] {
    const keys = callbackKeys(this.config, callback.partnerId, callback.notificationTypeId);
    return [keys.inFlight, keys.circuit, keys.probe, keys.waiting];
  }
}
