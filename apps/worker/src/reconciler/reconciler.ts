import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { Metrics } from '@callbacks/observability';
import {
  DatabaseLock,
  DeliveryRepository,
  FIRST_OVERDUE_PAGE,
  NotificationRepository,
  type NotificationDelivery,
  type SqlExecutor,
} from '@callbacks/persistence';
import {
  callbackShard,
  deliveryJobId,
  DeliveryQueues,
  type DeliveryToEnqueue,
  enqueueDeliveries,
  inDoubtAmong,
  parseParkedCallbackMember,
  reviveJob,
  STALLED_TOO_OFTEN,
  withTimeout,
} from '@callbacks/queue';
import { CrashQuarantine } from '../delivery/crash-quarantine';
import { DeliveryPolicies } from '../delivery/delivery-policies';
import { CallbackGuard } from '../isolation/callback-guard';
import { ParkedDeliveries } from '../isolation/parked-deliveries';
import { CaseOrder } from '../ordering/case-order';
import type { PassContext, PeriodicPass } from '../passes/periodic-pass';

const BATCH_SIZE = 500;
const STATE_LOOKUPS_IN_PARALLEL = 50;
/** A batch that Redis cannot answer in this time ends the pass, so the lock's transaction does not stay open. */
const BATCH_TIMEOUT_MS = 30_000;
/** Beyond one attempt's deadline: the queue's pick-up delay and the time to record the attempt. */
const OVERDUE_MARGIN_MS = 5_000;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/**
 * How late a pending notification must be before a pass looks at it. A healthy row's due time moves
 * on whenever its job runs (the attempt's record sets the next one, and a delivery parked behind the
 * in-flight cap is pushed forward), so a row overdue by more than one
 * attempt's deadline plus a margin, and by two passes, has most likely lost its job. The default
 * (RECONCILE_INTERVAL_MS 15 s, DELIVERY_TIMEOUT_MS 15 s) is 30 s.
 */
export function overdueGraceMs(config: Pick<AppConfig, 'reconcileIntervalMs' | 'deliveryTimeoutMs'>): number {
  return Math.max(2 * config.reconcileIntervalMs, config.deliveryTimeoutMs + OVERDUE_MARGIN_MS);
}

export interface ReconcileReport {
  scanned: number;
  reenqueued: number;
  retried: number;
  /** Jobs that crashed workers too often: their notifications ended failed (worker_crash). */
  quarantined: number;
  /**
   * Parked deliveries woken because nothing else would before their park timeout: re-enqueued due at
   * once after Redis lost its data (waiting lists included), or promoted after QUEUE_SHARDS moved their callback.
   */
  unparked: number;
  /** Parked deliveries woken because their wake was lost (a free slot with jobs waiting, or a handed slot unused). */
  lostWakes: number;
  /** Held deliveries (case ordering) whose predecessor had ended without waking them: woken. */
  woken: number;
}

/**
 * PostgreSQL is the source of truth, Redis only the transport. Every RECONCILE_INTERVAL_MS one
 * worker (the one that takes the pass's advisory lock) looks at the pending notifications whose
 * next attempt is overdue by more than overdueGraceMs (quiet pending rows, due later, cost nothing:
 * neither read nor looked up in Redis) and gives each a job again if its job is gone (Redis
 * restarted or lost its data), failed (infrastructure errors, or stalled twice) or finished
 * without delivering. Adding a job is idempotent, so a race with a live job changes nothing.
 * Each notification is looked for, and re-enqueued, in its callback's shard queue.
 */
@Injectable()
export class Reconciler implements PeriodicPass<ReconcileReport> {
  readonly name = 'reconciler';
  readonly interval = 'reconcileIntervalMs';
  readonly lock = { id: DatabaseLock.Reconciler, scope: 'transaction' } as const;
  readonly runs = 'reconcilerRuns';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: DeliveryQueues,
    private readonly notifications: NotificationRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly quarantine: CrashQuarantine,
    private readonly guard: CallbackGuard,
    private readonly parked: ParkedDeliveries,
    private readonly caseOrder: CaseOrder,
    private readonly policies: DeliveryPolicies,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {
    this.logger.setContext('Reconciler');
  }

  async run({ db }: PassContext): Promise<ReconcileReport> {
    // Parked rows are not in the scan of overdue rows: those stranded (Redis lost its data, QUEUE_SHARDS changed), and lost wakes, are found here.
    const unparked = await this.wakeStrandedParked(db);
    const lostWakes = await withTimeout(this.wakeLost(), BATCH_TIMEOUT_MS, 'looking for lost wakes of parked deliveries');
    const woken = await withTimeout(this.wakeLostHolds(db), BATCH_TIMEOUT_MS, 'waking held deliveries');
    const report = { ...(await this.scan(db)), unparked, lostWakes, woken };
    this.metrics.reconcilerReenqueued.inc(report.reenqueued + report.retried);
    const changed = report.reenqueued + report.retried + report.quarantined + report.unparked + report.lostWakes + report.woken;
    if (changed > 0) this.logger.warn(report, 'reconciler re-enqueued deliveries');
    return report;
  }

  private async scan(db: SqlExecutor): Promise<ReconcileReport> {
    const report: ReconcileReport = { scanned: 0, reenqueued: 0, retried: 0, quarantined: 0, unparked: 0, lostWakes: 0, woken: 0 };
    // One cutoff for the whole pass.
    const cutoff = await this.notifications.overdueCutoff(overdueGraceMs(this.config), db);
    for (let page: typeof FIRST_OVERDUE_PAGE | null = FIRST_OVERDUE_PAGE; page;) {
      const { rows, next } = await this.notifications.overduePage(cutoff, page, BATCH_SIZE, db);
      report.scanned += rows.length;
      if (rows.length > 0) await withTimeout(this.repair(rows, report), BATCH_TIMEOUT_MS, 'reconciling a batch with Redis');
      page = next;
    }
    for (let after = FIRST_ID; ;) {
      const rows = await this.notifications.undatedPage(cutoff, after, BATCH_SIZE, db);
      if (rows.length === 0) return report;
      report.scanned += rows.length;
      await withTimeout(this.repair(rows, report), BATCH_TIMEOUT_MS, 'reconciling a batch with Redis');
      after = rows[rows.length - 1].notificationId;
    }
  }

  private async repair(rows: NotificationDelivery[], report: ReconcileReport): Promise<void> {
    const missing: DeliveryToEnqueue[] = [];
    for (let start = 0; start < rows.length; start += STATE_LOOKUPS_IN_PARALLEL) {
      await Promise.all(
        rows.slice(start, start + STATE_LOOKUPS_IN_PARALLEL).map(async (row) => {
          // In any shard: a job added before QUEUE_SHARDS changed is in its callback's former shard.
          const jobId = deliveryJobId(row.notificationId, row.round);
          const { queue, state } = await this.queues.locateJob(row.partnerId, row.notificationTypeId, jobId);
          const revival = await reviveJob(queue, jobId, (job) => this.retryFailed(row, job, report), state);
          if (revival === 'retried') report.retried++;
          if (revival === 'missing') missing.push(row);
        }),
      );
    }
    // Never an intake write whose request was answered 503 while its commit was in doubt: the API deletes it, or a retry adopts it.
    const redis = await this.queues.all[0].backend.client;
    const inDoubt = await inDoubtAmong(
      redis,
      this.config.queuePrefix,
      missing.filter((row) => row.round === 0).map((row) => row.notificationId),
    );
    const enqueued = missing.filter((row) => !inDoubt.has(row.notificationId));
    await enqueueDeliveries(this.queues, enqueued);
    report.reenqueued += enqueued.length;
  }

  /**
   * A failed job whose notification is still pending failed for reasons of ours (infrastructure
   * errors), and is retried; unless it crashed its workers too often, which ends the notification
   * (worker_crash). The notification is read again after the job's state: the worker records a
   * failure before it fails the job, so a notification that is failed by now stays failed.
   */
  private async retryFailed(
    row: NotificationDelivery,
    job: { failedReason: string; attemptsMade: number },
    report: ReconcileReport,
  ): Promise<boolean> {
    if (job.failedReason === STALLED_TOO_OFTEN) {
      const callback = { partnerId: row.partnerId, notificationTypeId: row.notificationTypeId };
      if (await this.quarantine.end({ notificationId: row.notificationId, round: row.round, callback }, job.attemptsMade))
        report.quarantined++;
      return false;
    }
    return this.deliveries.isPendingInRound(row.notificationId, row.round);
  }

  /**
   * Parked deliveries are woken by the deliveries that end before them, and never poll. A wake can
   * be lost (a worker died between freeing a slot and waking the next job, a lease ran out, a woken
   * job's run failed): once a pass, each callback with parked jobs (a set per shard in Redis) is
   * looked at, not each parked job: its free slots go to the first jobs in line, and jobs handed a
   * slot that have not run for a pass are woken again (harmless if they are only late).
   */
  private async wakeLost(): Promise<number> {
    let woken = 0;
    for (const shard of this.queues.shards) {
      for (const member of await this.guard.parkedCallbacks(shard)) {
        const callback = parseParkedCallbackMember(member);
        if (!callback) continue;
        const limits = await this.policies.of(callback);
        const { handed, stale } = await this.guard.findLostWakes(callback, limits, this.config.reconcileIntervalMs);
        // A woken job goes to the front of the queue, ahead of those woken before it: the last in line first.
        const wakes = [...handed, ...stale.map((jobId) => ({ jobId, startAt: 0 }))].reverse();
        for (const handOver of wakes) await this.parked.wakeNow(callback, handOver, limits);
        woken += handed.length;
      }
    }
    return woken;
  }

  /**
   * Case ordering: a held delivery whose predecessor has ended but which is still marked waiting
   * lost its wake (the predecessor's worker died between the two, or Redis lost the held job). At
   * most one per held case is found (the one right behind the ended notification), and woken: its
   * job promoted, or added again, due now. The other held ones of the case are woken in turn.
   */
  private async wakeLostHolds(db: SqlExecutor): Promise<number> {
    const held = await this.notifications.lostWakes(BATCH_SIZE, db);
    await this.caseOrder.wakeLost(held);
    return held.length;
  }

  /**
   * A parked delivery's next attempt is due at its park timeout, so the scan of overdue rows does
   * not see it for minutes; it waits for a slot handed on through its callback's waiting list. Two
   * things strand parked deliveries, and each is looked for here, once a pass:
   * - Redis lost its data (a restart without persistence, a failover to an empty replica), waiting
   *   lists included: an epoch key per shard, set once and gone with the data, says so. Every parked
   *   delivery whose job is gone gets one due now (jobs that still exist, on shards that kept their
   *   data, are left as they are).
   * - QUEUE_SHARDS changed (the count is kept under shard 0's tag): a callback whose shard changed
   *   left its waiting list, and its parked jobs, in its former shard, where none of its deliveries
   *   will hand a slot on. Its parked jobs are promoted where they are (or, in a shard that no
   *   longer exists, given a new job due now): each runs, and takes a slot or parks again in the
   *   callback's new waiting list, so the backlog is woken by hand-overs as before, not by its park
   *   timeouts. Once per change, a job run and a row write per parked delivery of a moved callback.
   */
  private async wakeStrandedParked(db: SqlExecutor): Promise<number> {
    const stranded = await withTimeout(this.strandedBy(), BATCH_TIMEOUT_MS, 'reading the shard epochs and layout');
    let woken = 0;
    if (stranded.redisLost || stranded.moved) {
      const { moved } = stranded;
      for (let after = FIRST_ID; ;) {
        const rows = await this.notifications.parkedPage(after, BATCH_SIZE, db);
        if (rows.length === 0) break;
        woken += await withTimeout(
          this.wakeParked(rows, (row) => moved?.(row) ?? false),
          BATCH_TIMEOUT_MS,
          'waking stranded parked deliveries',
        );
        after = rows[rows.length - 1].notificationId;
      }
    }
    await stranded.recordLayout();
    return woken;
  }

  /**
   * Whether Redis lost data on any shard (each shard's epoch key is set here when missing), and,
   * when QUEUE_SHARDS changed since the last pass, which callbacks it moved. Only the lock holder
   * gets here, so looking and then setting cannot race another pass.
   */
  private async strandedBy(): Promise<{
    redisLost: boolean;
    moved: ((row: NotificationDelivery) => boolean) | null;
    recordLayout: () => Promise<void>;
  }> {
    const lost = await Promise.all(
      this.queues.all.map(async (queue) => {
        const redis = await queue.backend.client;
        const epochKey = `${queue.opts.prefix}:${queue.name}:reconciler-epoch`;
        if ((await redis.get(epochKey)) !== null) return false;
        await redis.set(epochKey, new Date().toISOString());
        return true;
      }),
    );
    const redisLost = lost.includes(true);
    const shard0 = this.queues.all[0];
    const redis = await shard0.backend.client;
    const layoutKey = `${shard0.opts.prefix}:${shard0.name}:queue-shards`;
    const recorded = await redis.get(layoutKey);
    const current = this.config.queueShards;
    const recordLayout = async () => {
      if (recorded !== String(current)) await redis.set(layoutKey, String(current));
    };
    // Unrecorded: Redis lost it, or no pass of a release that records it has run yet (then the count is
    // taken as unchanged, rather than waking every parked delivery at the upgrade; see the README).
    if (recorded === null || recorded === String(current)) return { redisLost, moved: null, recordLayout };
    const previous = { queuePrefix: this.config.queuePrefix, queueShards: Number(recorded) };
    const moved = (row: NotificationDelivery) =>
      callbackShard(previous, row.partnerId, row.notificationTypeId).prefix !==
      callbackShard(this.config, row.partnerId, row.notificationTypeId).prefix;
    return { redisLost, moved, recordLayout };
  }

  /** Gives each parked delivery a job due now where it has none (in any shard), and promotes the delayed jobs of those `promote` names. */
  private async wakeParked(rows: NotificationDelivery[], promote: (row: NotificationDelivery) => boolean): Promise<number> {
    const missing: DeliveryToEnqueue[] = [];
    let promoted = 0;
    for (let start = 0; start < rows.length; start += STATE_LOOKUPS_IN_PARALLEL) {
      await Promise.all(
        rows.slice(start, start + STATE_LOOKUPS_IN_PARALLEL).map(async (row) => {
          const jobId = deliveryJobId(row.notificationId, row.round);
          const { queue, state } = await this.queues.locateJob(row.partnerId, row.notificationTypeId, jobId);
          if (state === 'unknown') missing.push({ ...row, dueAt: null });
          else if (state === 'delayed' && promote(row)) {
            // A job that left delayed meanwhile (woken by a hand-over, or run) needs nothing more.
            const job = await queue.getJob(jobId);
            const done = await job?.promote().then(
              () => true,
              () => false,
            );
            if (done) promoted++;
          }
        }),
      );
    }
    await enqueueDeliveries(this.queues, missing);
    return missing.length + promoted;
  }
}
