import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackRef, DeliveryLimits } from '@callbacks/contracts';
import { callbackKeys, closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';
import { type Clock, GUARD_CLOCK, systemClock } from './clock';
import { guardScripts } from './guard-scripts';

/*
 * Both scripts (lua/admit.lua, lua/release.lua) take KEYS inFlight, circuit, probe, waiting. A lease
 * is a member of inFlight (the job id) scored by its expiry, so a dead worker's slot frees itself. A
 * slot given up by a delivery goes straight to the longest-waiting parked job, which finds its lease
 * already in place when it runs: parked deliveries never poll, and new ones cannot overtake them.
 */

export type HeldBackReason = 'circuit_open' | 'circuit_probing' | 'in_flight_cap';
/** `handedTo`: a parked job that the slot given up here now belongs to; the caller wakes it. */
export type Admission = { admitted: true } | { admitted: false; reason: HeldBackReason; handedTo: string | null };
export type CircuitTransition = 'ok' | 'degraded' | 'open' | 'opened' | 'closed';

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
 * - at most the callback's maxInFlight deliveries to one callback at a time (leases in Redis that
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

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(GUARD_CLOCK) private readonly clock: Clock = systemClock,
  ) {
    // Auto-pipelining sends the admits and releases of concurrent deliveries in one write.
    this.redis = createRedisClient(config, 'worker', { enableAutoPipelining: true }) as GuardRedis;
    this.redis.on('error', () => undefined); // the queue's own connection reports Redis trouble
    const scripts = guardScripts();
    this.redis.defineCommand('admitDelivery', { numberOfKeys: 4, lua: scripts.admit });
    this.redis.defineCommand('releaseDelivery', { numberOfKeys: 4, lua: scripts.release });
    this.leaseMs = config.deliveryTimeoutMs + 10_000;
  }

  /** `parkTtlMs`: how long the waiting list may outlive its last parked job. */
  async admit(callback: CallbackRef, jobId: string, limits: DeliveryLimits, parkTtlMs: number): Promise<Admission> {
    const [admitted, , reason, handedTo] = await this.redis.admitDelivery(
      ...this.keys(callback),
      this.clock.now(),
      limits.maxInFlight,
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
    limits: DeliveryLimits,
  ): Promise<{ transition: CircuitTransition; handedTo: string | null }> {
    const result = ok === null ? '' : ok ? '1' : '0';
    const [transition, handedTo] = await this.redis.releaseDelivery(
      ...this.keys(callback),
      jobId,
      result,
      this.clock.now(),
      this.config.circuitFailureThreshold,
      this.config.circuitOpenMs,
      limits.maxInFlight,
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
