import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { Metrics } from '@callbacks/observability';
import {
  AuditRepository,
  DatabaseLock,
  IdempotencyKeyRepository,
  NotificationRepository,
  OperatorEventRepository,
} from '@callbacks/persistence';
import type { PassContext, PeriodicPass } from '../passes/periodic-pass';

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
  /** Audit trail entries written more than AUDIT_RETENTION_PERIOD ago. */
  auditEntries: number;
  durationMs: number;
}

/**
 * Deletes what is kept no longer: delivered, failed and skipped notifications unchanged for
 * RETENTION_PERIOD (with their attempts and idempotency keys), idempotency keys whose 24-hour
 * window is over, operator events that ended before the cutoff, and audit trail entries older than
 * AUDIT_RETENTION_PERIOD (a cutoff of their own: the trail outlives the data it talks about).
 * Pending notifications are never touched.
 *
 * Every RETENTION_SWEEP_INTERVAL_MS one worker sweeps under a session-level advisory lock: the
 * sweep commits after every batch of BATCH_SIZE rows, taken oldest first from a partial index,
 * with SKIP LOCKED, so intake and delivery never wait behind it and it never waits behind them.
 * At shutdown it stops between two batches: what is left goes in the next sweep.
 */
@Injectable()
export class RetentionSweep implements PeriodicPass<SweepReport> {
  readonly name = 'retention sweep';
  readonly interval = 'retentionSweepIntervalMs';
  readonly lock = { id: DatabaseLock.RetentionSweep, scope: 'session' } as const;
  readonly runs = 'retentionSweeps';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly notifications: NotificationRepository,
    private readonly idempotencyKeys: IdempotencyKeyRepository,
    private readonly operatorEvents: OperatorEventRepository,
    private readonly auditEntries: AuditRepository,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {
    this.logger.setContext('RetentionSweep');
  }

  async run({ db, signal }: PassContext): Promise<SweepReport> {
    const startedAt = new Date();
    const cutoff = await this.notifications.retentionCutoff(this.config.retentionPeriodMs, db);
    const auditCutoff = await this.notifications.retentionCutoff(this.config.auditRetentionPeriodMs, db);
    const report: SweepReport = {
      olderThan: cutoff,
      startedAt,
      notifications: 0,
      byStatus: {},
      attempts: 0,
      idempotencyKeys: 0,
      operatorEvents: 0,
      auditEntries: 0,
      durationMs: 0,
    };
    try {
      for (let more = true; more && !signal.aborted;) {
        const batch = await this.notifications.deleteBatch('expired', cutoff, BATCH_SIZE, { skipLocked: true }, db);
        report.notifications += batch.notifications.length;
        report.attempts += batch.attempts;
        report.idempotencyKeys += batch.idempotencyKeys;
        for (const { status } of batch.notifications) report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
        this.metrics.retentionDeleted.inc({ kind: 'notifications' }, batch.notifications.length);
        this.metrics.retentionDeleted.inc({ kind: 'attempts' }, batch.attempts);
        this.metrics.retentionDeleted.inc({ kind: 'idempotency_keys' }, batch.idempotencyKeys);
        more = batch.notifications.length === BATCH_SIZE;
      }
      for (let more = true; more && !signal.aborted;) {
        const deleted = await this.idempotencyKeys.deleteExpired(BATCH_SIZE, db);
        report.idempotencyKeys += deleted;
        this.metrics.retentionDeleted.inc({ kind: 'idempotency_keys' }, deleted);
        more = deleted === BATCH_SIZE;
      }
      for (let more = true; more && !signal.aborted;) {
        const deleted = await this.operatorEvents.deleteEnded(cutoff, BATCH_SIZE, db);
        report.operatorEvents += deleted;
        this.metrics.retentionDeleted.inc({ kind: 'operator_events' }, deleted);
        more = deleted === BATCH_SIZE;
      }
      for (let more = true; more && !signal.aborted;) {
        const deleted = await this.auditEntries.deleteBefore(auditCutoff, BATCH_SIZE, db);
        report.auditEntries += deleted;
        this.metrics.retentionDeleted.inc({ kind: 'audit_entries' }, deleted);
        more = deleted === BATCH_SIZE;
      }
    } finally {
      // The audit line: what went, never a payload. Written for a sweep cut short by an error too.
      report.durationMs = Date.now() - startedAt.getTime();
      const { olderThan, startedAt: _startedAt, ...counts } = report;
      if (report.notifications > 0 || report.idempotencyKeys > 0 || report.operatorEvents > 0 || report.auditEntries > 0) {
        this.logger.info(
          { audit: true, action: 'retention_sweep', olderThan: olderThan.toISOString(), ...counts },
          'retention sweep deleted expired data',
        );
      }
    }
    return report;
  }
}
