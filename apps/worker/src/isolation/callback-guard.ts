import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { callbackKeys, closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';

/** Admits a delivery to a callback (KEYS inFlight, circuit, probe; ARGV now, cap, member, leaseMs, threshold). */
const ADMIT = `
local now = tonumber(ARGV[1])
local failures = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
local probing = false
if failures >= tonumber(ARGV[5]) then
  local openUntil = tonumber(redis.call('HGET', KEYS[2], 'openUntil') or '0')
  if now < openUntil then return {0, openUntil - now, 'circuit_open'} end
  if not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then
    return {0, math.min(math.max(redis.call('PTTL', KEYS[3]), 100), 1000), 'circuit_probing'}
  end
  probing = true
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  if probing then redis.call('DEL', KEYS[3]) end
  return {0, 0, 'in_flight_cap'}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, 0, ''}
`;

/**
 * Ends a delivery (KEYS as above; ARGV member, ok ('1', '0', or '' when nothing was sent), now,
 * threshold, openMs); returns the circuit transition.
 */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if ARGV[2] == '' then return 'ok' end
local threshold = tonumber(ARGV[4])
if ARGV[2] == '1' then
  local was = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
  if was == 0 then return 'ok' end
  redis.call('DEL', KEYS[2])
  if was >= threshold then return 'closed' end
  return 'ok'
end
local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
redis.call('PEXPIRE', KEYS[2], 86400000)
if failures >= threshold then
  redis.call('HSET', KEYS[2], 'openUntil', tonumber(ARGV[3]) + tonumber(ARGV[5]))
  if failures == threshold then return 'opened' end
  return 'open'
end
return 'degraded'
`;

export type Admission = { admitted: true } | { admitted: false; reason: 'circuit_open' | 'circuit_probing' | 'in_flight_cap'; retryInMs: number };
export type CircuitTransition = 'ok' | 'degraded' | 'open' | 'opened' | 'closed';
/** A callback is one partner's registration for one notification type. */
export interface CallbackRef {
  partnerId: string;
  notificationTypeId: number;
}

type GuardRedis = RedisClient & {
  admitDelivery(inFlight: string, circuit: string, probe: string, ...args: Array<string | number>): Promise<[number, number, string]>;
  releaseDelivery(inFlight: string, circuit: string, probe: string, ...args: Array<string | number>): Promise<CircuitTransition>;
};

/** Spreads held-back deliveries so they do not all come back in the same millisecond. */
function spread(baseMs: number, widthMs: number): number {
  return Math.round(baseMs + Math.random() * widthMs);
}

/**
 * Keeps one partner's broken endpoint from slowing the others, across every worker:
 * - at most CALLBACK_MAX_IN_FLIGHT deliveries to one callback at a time (leases in Redis that
 *   expire on their own if a worker dies), so a hanging endpoint cannot take every slot;
 * - a circuit breaker: CIRCUIT_FAILURE_THRESHOLD consecutive failures open it for CIRCUIT_OPEN_MS,
 *   then one probe is let through; a success closes it, a failure opens it again.
 * Held-back deliveries go back to the queue as delayed jobs; they are not attempts and do not move
 * the retry schedule.
 */
@Injectable()
export class CallbackGuard implements OnApplicationShutdown {
  private readonly redis: GuardRedis;
  private readonly leaseMs: number;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Auto-pipelining sends the admits and releases of concurrent deliveries in one write.
    this.redis = createRedisClient(config, 'worker', { enableAutoPipelining: true }) as GuardRedis;
    this.redis.on('error', () => undefined); // the queue's own connection reports Redis trouble
    this.redis.defineCommand('admitDelivery', { numberOfKeys: 3, lua: ADMIT });
    this.redis.defineCommand('releaseDelivery', { numberOfKeys: 3, lua: RELEASE });
    this.leaseMs = config.deliveryTimeoutMs + 10_000;
  }

  async admit(callback: CallbackRef, notificationId: string): Promise<Admission> {
    const keys = callbackKeys(this.config, callback.partnerId, callback.notificationTypeId);
    const [admitted, waitMs, reason] = await this.redis.admitDelivery(
      keys.inFlight,
      keys.circuit,
      keys.probe,
      Date.now(),
      this.config.callbackMaxInFlight,
      notificationId,
      this.leaseMs,
      this.config.circuitFailureThreshold,
    );
    if (admitted === 1) return { admitted: true };
    const held = reason as 'circuit_open' | 'circuit_probing' | 'in_flight_cap';
    const retryInMs = held === 'in_flight_cap' ? spread(200, 800) : spread(waitMs, Math.min(5_000, this.config.circuitOpenMs / 2));
    return { admitted: false, reason: held, retryInMs };
  }

  /** `ok` is whether the attempt succeeded; null when nothing was sent (the lease is only given back). */
  release(callback: CallbackRef, notificationId: string, ok: boolean | null): Promise<CircuitTransition> {
    const keys = callbackKeys(this.config, callback.partnerId, callback.notificationTypeId);
    const result = ok === null ? '' : ok ? '1' : '0';
    return this.redis.releaseDelivery(keys.inFlight, keys.circuit, keys.probe, notificationId, result, Date.now(), this.config.circuitFailureThreshold, this.config.circuitOpenMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}
