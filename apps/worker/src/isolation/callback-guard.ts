import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackRef, DeliveryLimits } from '@callbacks/contracts';
import {
  callbackKeys,
  callbackShard,
  closeRedisClient,
  createRedisClient,
  parkedCallbackMember,
  parkedCallbacksKey,
  type QueueShard,
  type RedisClient,
} from '@callbacks/queue';
import { type Clock, GUARD_CLOCK, systemClock } from './clock';
import { guardScripts } from './guard-scripts';

/*
 * The scripts (lua/*.lua) take KEYS inFlight, circuit, probe, waiting, handed, starts, the shard's
 * set of parked callbacks and started (see lua/hand-over.lua). A lease is a member of inFlight (the job id)
 * scored by its expiry, so a dead worker's slot frees itself. A slot given up by a delivery goes
 * straight to the longest-waiting parked job (handed, scored by when it may start), which finds it
 * reserved when it runs, however late: parked deliveries never poll, and new ones cannot overtake them.
 */

export type HeldBackReason = 'circuit_open' | 'circuit_probing' | 'in_flight_cap' | 'rate_limited';
/** A parked job handed a slot: the caller wakes it at `startAt` (now, or later when the rate says so). */
export interface HandOver {
  jobId: string;
  startAt: number;
}
/**
 * Not admitted: `handedTo` is a parked job that a slot given up here now belongs to (the caller
 * wakes it); `waitMs`, for rate_limited, is when this job's own reserved slot starts.
 */
export type Admission = { admitted: true } | { admitted: false; reason: HeldBackReason; handedTo: HandOver | null; waitMs: number };
export type CircuitTransition = 'ok' | 'degraded' | 'open' | 'opened' | 'closed';

type ScriptKeys = [string, string, string, string, string, string, string, string];

type GuardRedis = RedisClient & {
  admitDelivery(...keysAndArgs: Array<string | number>): Promise<[number, number, string, string, number]>;
  releaseDelivery(...keysAndArgs: Array<string | number>): Promise<[CircuitTransition, string, number]>;
  findLostWakes(...keysAndArgs: Array<string | number>): Promise<Array<string | number>>;
  wakeToFront(...keysAndArgs: Array<string | number>): Promise<number>;
  startAttempt(started: string, ...args: Array<string | number>): Promise<[number, number]>;
};

function handOver(jobId: string, startAt: number | string): HandOver | null {
  return jobId ? { jobId, startAt: Number(startAt) } : null;
}

/**
 * Keeps one partner's broken or slow endpoint from costing the others, across every worker:
 * - at most `maxInFlight` deliveries to one callback at a time (leases in Redis that expire on
 *   their own if a worker dies), and at most `ratePerSecond` attempts starting in any one-second
 *   window. A delivery over either is parked: it waits, without running, in the callback's waiting
 *   list until a delivery ends and hands it its slot (over the rate, the slot starts when a start
 *   is free, and only the job it was handed to is woken then);
 * - a circuit breaker: CIRCUIT_FAILURE_THRESHOLD consecutive failures open it for CIRCUIT_OPEN_MS,
 *   then one probe is let through; a success closes it, a failure opens it again. An attempt that
 *   falls due while it is open is not sent: the caller records it as `circuit_open` and moves the
 *   schedule on, so a dead endpoint's backlog still ends within its schedule.
 */
@Injectable()
export class CallbackGuard implements OnApplicationShutdown {
  private readonly redis: GuardRedis;
  private readonly leaseMs: number;
  /** How long a waiting list outlives its last change: beyond any parked job's own timeout. */
  private readonly parkTtlMs: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(GUARD_CLOCK) private readonly clock: Clock = systemClock,
  ) {
    // Auto-pipelining sends the admits and releases of concurrent deliveries in one write.
    this.redis = createRedisClient(config, 'worker', { enableAutoPipelining: true }) as GuardRedis;
    this.redis.on('error', () => undefined); // the queue's own connection reports Redis trouble
    const scripts = guardScripts();
    this.redis.defineCommand('admitDelivery', { numberOfKeys: 8, lua: scripts.admit });
    this.redis.defineCommand('releaseDelivery', { numberOfKeys: 8, lua: scripts.release });
    this.redis.defineCommand('findLostWakes', { numberOfKeys: 8, lua: scripts.findLostWakes });
    this.redis.defineCommand('startAttempt', { numberOfKeys: 1, lua: scripts.startAttempt });
    this.redis.defineCommand('wakeToFront', { numberOfKeys: 6, lua: scripts.wakeToFront });
    this.leaseMs = config.deliveryTimeoutMs + 10_000;
    this.parkTtlMs = 2 * config.parkTimeoutMs;
  }

  async admit(callback: CallbackRef, jobId: string, limits: DeliveryLimits): Promise<Admission> {
    const [admitted, waitMs, reason, handedTo, startAt] = await this.redis.admitDelivery(
      ...this.keys(callback),
      this.clock.now(),
      limits.maxInFlight,
      jobId,
      this.leaseMs,
      this.config.circuitFailureThreshold,
      this.parkTtlMs,
      limits.ratePerSecond ?? 0,
      parkedCallbackMember(callback.partnerId, callback.notificationTypeId),
    );
    if (admitted === 1) return { admitted: true };
    return { admitted: false, reason: reason as HeldBackReason, handedTo: handOver(handedTo, startAt), waitMs: Number(waitMs) };
  }

  /** `ok` is whether the attempt succeeded; null when nothing was sent (the slot is only given on). */
  async release(
    callback: CallbackRef,
    jobId: string,
    ok: boolean | null,
    limits: DeliveryLimits,
  ): Promise<{ transition: CircuitTransition; handedTo: HandOver | null }> {
    const result = ok === null ? '' : ok ? '1' : '0';
    const [transition, handedTo, startAt] = await this.redis.releaseDelivery(
      ...this.keys(callback),
      jobId,
      result,
      this.clock.now(),
      this.config.circuitFailureThreshold,
      this.config.circuitOpenMs,
      limits.maxInFlight,
      limits.ratePerSecond ?? 0,
      this.parkTtlMs,
    );
    return { transition, handedTo: handOver(handedTo, startAt) };
  }

  /**
   * Right before an admitted delivery is sent: takes one of the callback's ratePerSecond starts,
   * waiting (at most about a second, holding its slot) when the last second has had its share. The
   * admission already planned the start; this holds what the partner receives to the rate however
   * long the deliveries admitted together took to load and sign. Returns the attempt's start (ms):
   * the time its start was logged under, so the delivery log shows the spacing the rate enforced.
   */
  async startAttempt(callback: CallbackRef, jobId: string, limits: DeliveryLimits): Promise<number> {
    if (!limits.ratePerSecond) return this.clock.now();
    const started = this.keys(callback)[7];
    for (;;) {
      const [waitMs, startedAt] = await this.redis.startAttempt(started, this.clock.now(), limits.ratePerSecond, jobId);
      if (waitMs <= 0) return Number(startedAt);
      await new Promise((resolve) => setTimeout(resolve, Number(waitMs)));
    }
  }

  /** When the slot handed to a parked job starts, or null if it holds none (not handed, or running). */
  async handedStart(callback: CallbackRef, jobId: string): Promise<number | null> {
    const score = await this.redis.zscore(this.keys(callback)[4], jobId);
    return score === null ? null : Number(score);
  }

  async holdsLease(callback: CallbackRef, jobId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys(callback)[0], jobId)) !== null;
  }

  /**
   * The reconciler's look at one callback with parked jobs: every free slot is handed to the first
   * of them (`handed`; a wake that was lost, or a lease that ran out), and `stale` lists the jobs
   * handed a slot more than `staleMs` ago that have not run yet (to be woken again).
   */
  async findLostWakes(callback: CallbackRef, limits: DeliveryLimits, staleMs: number): Promise<{ handed: HandOver[]; stale: string[] }> {
    const flat = await this.redis.findLostWakes(
      ...this.keys(callback),
      this.clock.now(),
      limits.maxInFlight,
      limits.ratePerSecond ?? 0,
      staleMs,
      this.parkTtlMs,
      parkedCallbackMember(callback.partnerId, callback.notificationTypeId),
    );
    const separator = flat.indexOf('');
    const handed: HandOver[] = [];
    for (let index = 0; index < separator; index += 2) handed.push({ jobId: String(flat[index]), startAt: Number(flat[index + 1]) });
    return { handed, stale: flat.slice(separator + 1).map(String) };
  }

  /** The members (see parkedCallbackMember) of one shard's set of callbacks with parked jobs. */
  async parkedCallbacks(shard: QueueShard): Promise<string[]> {
    return this.redis.smembers(parkedCallbacksKey(shard));
  }

  /** Moves a delayed job to the front of its queue's wait list: 0, or -3 (not delayed), -4 (has a priority). */
  async wakeToFront(queue: Queue, jobId: string): Promise<number> {
    const keys = queue.keys;
    return this.redis.wakeToFront(keys.delayed, keys.wait, keys.meta, keys.active, keys.events, keys.marker, queue.toKey(jobId), jobId);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }

  private keys(callback: CallbackRef): ScriptKeys {
    const keys = callbackKeys(this.config, callback.partnerId, callback.notificationTypeId);
    const shard = callbackShard(this.config, callback.partnerId, callback.notificationTypeId);
    return [keys.inFlight, keys.circuit, keys.probe, keys.waiting, keys.handed, keys.starts, parkedCallbacksKey(shard), keys.started];
  }
}
