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
  deliveryJobId,
  DeliveryQueues,
  type DeliveryToEnqueue,
  enqueueDeliveries,
  inDoubtAmong,
  reviveJob,
  STALLED_TOO_OFTEN,
  withTimeout,
} from '@callbacks/queue';
import { CrashQuarantine } from '../delivery/crash-quarantine';
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
  /** Parked deliveries re-enqueued, due at once, because Redis had lost its data (waiting lists included). */
  unparked: number;
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
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {
    this.logger.setContext('Reconciler');
  }

  async run({ db }: PassContext): Promise<ReconcileReport> {
    // First: the scan would give a parked delivery that Redis lost a job due at its park timeout.
    const unparked = await withTimeout(this.recoverParkedAfterRedisLoss(db), BATCH_TIMEOUT_MS, 'recovering parked deliveries');
    const report = { ...(await this.scan(db)), unparked };
    this.metrics.reconcilerReenqueued.inc(report.reenqueued + report.retried);
    if (report.reenqueued > 0 || report.retried > 0 || report.quarantined > 0 || report.unparked > 0)
      this.logger.warn(report, 'reconciler re-enqueued deliveries');
    return report;
  }

  private async scan(db: SqlExecutor): Promise<ReconcileReport> {
    const report: ReconcileReport = { scanned: 0, reenqueued: 0, retried: 0, quarantined: 0, unparked: 0 };
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
          const queue = this.queues.forCallback(row.partnerId, row.notificationTypeId);
          const revival = await reviveJob(queue, deliveryJobId(row.notificationId, row.round), (job) => this.retryFailed(row, job, report));
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
   * A parked delivery's next attempt is due at its park timeout, so the scan of overdue rows does
   * not see it for minutes. Redis losing its data (a restart without persistence, a failover to an
   * empty replica) loses the waiting lists that would have woken them: an epoch key, set once and
   * gone with the data, tells this pass, which then gives every parked delivery a job due now.
   */
  private async recoverParkedAfterRedisLoss(db: SqlExecutor): Promise<number> {
    // One epoch key per shard (a cluster can lose one master's data); only the lock holder gets
    // here, so looking and then setting cannot race another pass.
    const lost = await Promise.all(
      this.queues.all.map(async (queue) => {
        const redis = await queue.backend.client;
        const epochKey = `${queue.opts.prefix}:${queue.name}:reconciler-epoch`;
        if ((await redis.get(epochKey)) !== null) return false;
        await redis.set(epochKey, new Date().toISOString());
        return true;
      }),
    );
    if (!lost.includes(true)) return 0;
    let unparked = 0;
    for (let after = FIRST_ID; ;) {
      const rows = await this.notifications.parkedPage(after, BATCH_SIZE, db);
      if (rows.length === 0) return unparked;
      // Jobs that still exist (on shards that kept their data) are left as they are; the others are due now, not at their park timeout.
      await enqueueDeliveries(
        this.queues,
        rows.map((row) => ({ ...row, dueAt: null })),
      );
      unparked += rows.length;
      after = rows[rows.length - 1].notificationId;
    }
  }
}
