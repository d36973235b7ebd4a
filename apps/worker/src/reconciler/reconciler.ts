import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { Queue } from 'bullmq';
import { DataSource, type QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { Metrics } from '@callbacks/observability';
import { deliveryJobId, DeliveryQueues, type DeliveryToEnqueue, enqueueDeliveries, STALLED_TOO_OFTEN, withTimeout } from '@callbacks/queue';
import { DeliveryStore } from '../delivery/delivery-store';
import { CallbackLifecycle } from '../lifecycle/callback-lifecycle';

/** Any constant works; it names the reconciler's lock among PostgreSQL advisory locks. */
const RECONCILER_LOCK_ID = 7_243_001;
const BATCH_SIZE = 500;
const STATE_LOOKUPS_IN_PARALLEL = 50;
/** A batch that Redis cannot answer in this time ends the pass, so the lock's transaction does not stay open. */
const BATCH_TIMEOUT_MS = 30_000;
/** Beyond one attempt's deadline: the queue's pick-up delay and the time to record the attempt. */
const OVERDUE_MARGIN_MS = 5_000;

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

interface PendingRow {
  id: string;
  partner_id: string;
  notification_type_id: number;
  delivery_round: number;
  test: boolean;
  next_attempt_at: Date | null;
}

/**
 * PostgreSQL is the source of truth, Redis only the transport. Every RECONCILE_INTERVAL_MS one
 * worker (the one that takes a PostgreSQL advisory lock) looks at the pending notifications whose
 * next attempt is overdue by more than overdueGraceMs (quiet pending rows, due later, cost nothing:
 * neither read nor looked up in Redis) and gives each a job again if its job is gone (Redis
 * restarted or lost its data), failed (infrastructure errors, or stalled twice) or finished
 * without delivering. Adding a job is idempotent, so a race with a live job changes nothing.
 * Each notification is looked for, and re-enqueued, in its callback's shard queue.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: DeliveryQueues,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
    private readonly store: DeliveryStore,
    private readonly lifecycle: CallbackLifecycle,
  ) {
    this.logger.setContext('Reconciler');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.reconcile()
      .then((report) => {
        this.metrics.reconcilerRuns.inc({ result: report ? 'ran' : 'skipped_locked' });
        if (!report) return;
        this.metrics.reconcilerReenqueued.inc(report.reenqueued + report.retried);
        if (report.reenqueued > 0 || report.retried > 0 || report.quarantined > 0 || report.unparked > 0)
          this.logger.warn(report, 'reconciler re-enqueued deliveries');
      })
      .catch((error: unknown) => {
        this.metrics.reconcilerRuns.inc({ result: 'error' });
        this.logger.warn({ err: error }, 'reconciler run failed; the next run tries again');
      })
      .finally(() => (this.running = null));
    await this.running;
  }

  /** One pass; null when another worker holds the lock. */
  async reconcile(): Promise<ReconcileReport | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RECONCILER_LOCK_ID])) as Array<{
        locked: boolean;
      }>;
      if (!locked) return null;
      // First: the scan would give a parked delivery that Redis lost a job due at its park timeout.
      const unparked = await withTimeout(this.recoverParkedAfterRedisLoss(runner), BATCH_TIMEOUT_MS, 'recovering parked deliveries');
      return { ...(await this.scan(runner)), unparked };
    } finally {
      await runner.commitTransaction();
      await runner.release();
    }
  }

  private async scan(runner: QueryRunner): Promise<ReconcileReport> {
    const report: ReconcileReport = { scanned: 0, reenqueued: 0, retried: 0, quarantined: 0, unparked: 0 };
    // One cutoff for the whole pass, as text: a JS Date would cut next_attempt_at's microseconds and break the paging key.
    const [{ cutoff }] = (await runner.query('SELECT (now() - make_interval(secs => $1))::text AS cutoff', [
      overdueGraceMs(this.config) / 1000,
    ])) as Array<{ cutoff: string }>;
    // Overdue pending rows, in the order of ix_notifications_overdue (next_attempt_at, id), which is also the paging key.
    let page = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      const rows = (await runner.query(
        `SELECT id, partner_id, notification_type_id, delivery_round, test, next_attempt_at, next_attempt_at::text AS page_at
           FROM notifications
          WHERE status = 'pending' AND next_attempt_at < $1::timestamptz AND (next_attempt_at, id) > ($2::timestamptz, $3::uuid)
          ORDER BY next_attempt_at, id LIMIT $4`,
        [cutoff, page.at, page.id, BATCH_SIZE],
      )) as Array<PendingRow & { page_at: string }>;
      if (rows.length === 0) break;
      report.scanned += rows.length;
      await withTimeout(this.repair(rows, report), BATCH_TIMEOUT_MS, 'reconciling a batch with Redis');
      page = { at: rows[rows.length - 1].page_at, id: rows[rows.length - 1].id };
    }
    // Pending rows without a due time (a failed job retried from Bull Board reopens its row so), quiet since the cutoff:
    // the same index, its NULL end, in id order.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows = (await runner.query(
        `SELECT id, partner_id, notification_type_id, delivery_round, test, next_attempt_at
           FROM notifications
          WHERE status = 'pending' AND next_attempt_at IS NULL AND updated_at < $1::timestamptz AND id > $2
          ORDER BY next_attempt_at, id LIMIT $3`,
        [cutoff, after, BATCH_SIZE],
      )) as PendingRow[];
      if (rows.length === 0) return report;
      report.scanned += rows.length;
      await withTimeout(this.repair(rows, report), BATCH_TIMEOUT_MS, 'reconciling a batch with Redis');
      after = rows[rows.length - 1].id;
    }
  }

  private async repair(rows: PendingRow[], report: ReconcileReport): Promise<void> {
    const missing: DeliveryToEnqueue[] = [];
    for (let start = 0; start < rows.length; start += STATE_LOOKUPS_IN_PARALLEL) {
      await Promise.all(
        rows.slice(start, start + STATE_LOOKUPS_IN_PARALLEL).map(async (row) => {
          const jobId = deliveryJobId(row.id, row.delivery_round);
          const queue = this.queues.forCallback(row.partner_id, row.notification_type_id);
          const state = await queue.getJobState(jobId);
          if (state === 'failed') {
            await this.repairFailed(queue, row, jobId, report);
          } else if (state === 'unknown' || state === 'completed') {
            if (state === 'completed') await queue.remove(jobId);
            missing.push({
              notificationId: row.id,
              partnerUniqueId: row.partner_id,
              notificationTypeId: row.notification_type_id,
              round: row.delivery_round,
              test: row.test,
              dueAt: row.next_attempt_at,
            });
          }
        }),
      );
    }
    await enqueueDeliveries(this.queues, missing);
    report.reenqueued += missing.length;
  }

  /**
   * A parked delivery's next attempt is due at its park timeout, so the scan of overdue rows does
   * not see it for minutes. Redis losing its data (a restart without persistence, a failover to an
   * empty replica) loses the waiting lists that would have woken them: an epoch key, set once and
   * gone with the data, tells this pass, which then gives every parked delivery a job due now.
   */
  private async recoverParkedAfterRedisLoss(runner: QueryRunner): Promise<number> {
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
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows = (await runner.query(
        `SELECT id, partner_id, notification_type_id, delivery_round, test, next_attempt_at
           FROM notifications
          WHERE parked_at IS NOT NULL AND status = 'pending' AND id > $1
          ORDER BY id LIMIT $2`,
        [after, BATCH_SIZE],
      )) as PendingRow[];
      if (rows.length === 0) return unparked;
      // Jobs that still exist (on shards that kept their data) are left as they are.
      await enqueueDeliveries(
        this.queues,
        rows.map((row) => ({
          notificationId: row.id,
          partnerUniqueId: row.partner_id,
          notificationTypeId: row.notification_type_id,
          round: row.delivery_round,
          test: row.test,
        })),
      );
      unparked += rows.length;
      after = rows[rows.length - 1].id;
    }
  }

  /**
   * A failed job whose notification is still pending failed for reasons of ours (infrastructure
   * errors), and is retried; unless it crashed its workers too often, which ends the notification
   * (worker_crash). The notification is read again after the job's state: the worker records a
   * failure before it fails the job, so a notification that is failed by now stays failed.
   */
  private async repairFailed(queue: Queue, row: PendingRow, jobId: string, report: ReconcileReport): Promise<void> {
    const job = await queue.getJob(jobId);
    if (!job) return;
    if (job.failedReason === STALLED_TOO_OFTEN) {
      if (!(await this.store.quarantine(row.id, row.delivery_round, Math.max(0, job.attemptsMade - 1)))) return;
      report.quarantined++;
      this.lifecycle.notificationFailed(
        { partnerId: row.partner_id, notificationTypeId: row.notification_type_id },
        { notificationId: row.id, statusReason: 'worker_crash', statusCode: null, error: 'worker_crash' },
      );
      return;
    }
    if (!(await this.store.isPendingInRound(row.id, row.delivery_round))) return;
    await job.retry('failed');
    report.retried++;
  }
}
