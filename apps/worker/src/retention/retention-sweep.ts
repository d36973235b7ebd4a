import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { Metrics } from '@callbacks/observability';
import { deleteExpiredIdempotencyKeys, deleteExpiredOperatorEvents, deleteNotifications, type SqlQuery } from '@callbacks/persistence';

/** Any constant works; it names the sweep's lock among PostgreSQL advisory locks (the reconciler's is 7_243_001). */
const RETENTION_LOCK_ID = 7_243_002;
/** Rows per statement: each batch is its own short transaction, so row locks last milliseconds. */
const BATCH_SIZE = 1_000;

export interface SweepReport {
  /** Rows last changed before this were expired. */
  olderThan: Date;
  /** When this worker, holding the lock, began deleting. */
  startedAt: Date;
  notifications: number;
  /** Deleted notifications by their final status (delivered, failed, skipped). */
  byStatus: Record<string, number>;
  attempts: number;
  idempotencyKeys: number;
  /** Operator events (and their attempts) that ended before the cutoff. */
  operatorEvents: number;
  durationMs: number;
}

/**
 * Deletes what is kept no longer: delivered, failed and skipped notifications unchanged for
 * RETENTION_PERIOD (with their attempts and idempotency keys), and idempotency keys whose 24-hour
 * window is over. Pending notifications are never touched.
 *
 * Every RETENTION_SWEEP_INTERVAL_MS each worker tries a session-level advisory lock; the one that
 * gets it sweeps, the others skip. Unlike the reconciler's, the lock is not tied to a transaction:
 * the sweep commits after every batch of BATCH_SIZE rows, taken oldest first from a partial index,
 * with SKIP LOCKED, so intake and delivery never wait behind it and it never waits behind them.
 */
@Injectable()
export class RetentionSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {
    this.logger.setContext('RetentionSweep');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.retentionSweepIntervalMs);
    this.timer.unref();
  }

  /** Stops between two batches: what is left goes in the next sweep. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping = true;
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.sweep()
      .then((report) => this.metrics.retentionSweeps.inc({ result: report ? 'ran' : 'skipped_locked' }))
      .catch((error: unknown) => {
        this.metrics.retentionSweeps.inc({ result: 'error' });
        this.logger.warn({ err: error }, 'retention sweep failed; the next one tries again');
      })
      .finally(() => (this.running = null));
    await this.running;
  }

  /** One sweep; null when another worker holds the lock. */
  async sweep(): Promise<SweepReport | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RETENTION_LOCK_ID])) as Array<{
        locked: boolean;
      }>;
      if (!locked) return null;
      try {
        return await this.deleteExpired(runner);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_ID]);
      }
    } finally {
      await runner.release();
    }
  }

  private async deleteExpired(runner: QueryRunner): Promise<SweepReport> {
    const startedAt = new Date();
    const query: SqlQuery = (sql, parameters) => runner.query(sql, parameters);
    // The database's clock, the one that wrote updated_at.
    const [{ cutoff }] = (await runner.query('SELECT now() - make_interval(secs => $1) AS cutoff', [
      this.config.retentionPeriodMs / 1000,
    ])) as Array<{ cutoff: Date }>;
    const report: SweepReport = {
      olderThan: cutoff,
      startedAt,
      notifications: 0,
      byStatus: {},
      attempts: 0,
      idempotencyKeys: 0,
      operatorEvents: 0,
      durationMs: 0,
    };
    try {
      for (let more = true; more && !this.stopping;) {
        const batch = await deleteNotifications(query, 'expired', cutoff, BATCH_SIZE, { skipLocked: true });
        report.notifications += batch.notifications.length;
        report.attempts += batch.attempts;
        report.idempotencyKeys += batch.idempotencyKeys;
        for (const { status } of batch.notifications) report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
        this.metrics.retentionDeleted.inc({ kind: 'notifications' }, batch.notifications.length);
        this.metrics.retentionDeleted.inc({ kind: 'attempts' }, batch.attempts);
        this.metrics.retentionDeleted.inc({ kind: 'idempotency_keys' }, batch.idempotencyKeys);
        more = batch.notifications.length === BATCH_SIZE;
      }
      for (let more = true; more && !this.stopping;) {
        const deleted = await deleteExpiredIdempotencyKeys(query, BATCH_SIZE);
        report.idempotencyKeys += deleted;
        this.metrics.retentionDeleted.inc({ kind: 'idempotency_keys' }, deleted);
        more = deleted === BATCH_SIZE;
      }
      for (let more = true; more && !this.stopping;) {
        const deleted = await deleteExpiredOperatorEvents(query, cutoff, BATCH_SIZE);
        report.operatorEvents += deleted;
        this.metrics.retentionDeleted.inc({ kind: 'operator_events' }, deleted);
        more = deleted === BATCH_SIZE;
      }
    } finally {
      // The audit line: what went, never a payload. Written for a sweep cut short by an error too.
      report.durationMs = Date.now() - startedAt.getTime();
      const { olderThan, startedAt: _startedAt, ...counts } = report;
      if (report.notifications > 0 || report.idempotencyKeys > 0 || report.operatorEvents > 0) {
        this.logger.info(
          { audit: true, action: 'retention_sweep', olderThan: olderThan.toISOString(), ...counts },
          'retention sweep deleted expired data',
        );
      }
    }
    return report;
  }
}
