import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { OperatorEventType } from '@callbacks/contracts';
import {
  DELIVERY_QUEUE,
  enqueueOperatorEvents,
  operatorEventJobId,
  type OperatorEventToEnqueue,
  reviveJob,
  withTimeout,
} from '@callbacks/queue';

/** Names this pass's lock among PostgreSQL advisory locks (the delivery reconciler has its own). */
const OPERATOR_EVENT_RECONCILER_LOCK_ID = 7_243_011;
const BATCH_SIZE = 200;
const PASS_TIMEOUT_MS = 30_000;

/**
 * The operator events' share of "PostgreSQL is the source of truth": every RECONCILE_INTERVAL_MS
 * one worker gives each pending event that nothing touched for two intervals its job again when
 * the job is gone, finished or failed. Operator events are few, so one batch per pass is plenty.
 */
@Injectable()
export class OperatorEventReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('OperatorEventReconciler');
  }

  onApplicationBootstrap(): void {
    if (!this.config.operatorWebhook) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.reconcile()
        .then((repaired) => repaired > 0 && this.logger.warn({ repaired }, 'operator events re-enqueued'))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'operator event reconciliation failed; the next pass tries again'))
        .finally(() => (this.running = null));
    }, this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many events got their job again (0 when another worker holds the lock). */
  async reconcile(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = (await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        OPERATOR_EVENT_RECONCILER_LOCK_ID,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return 0;
      const rows = (await manager.query(
        `SELECT id, type, GREATEST(due_at, COALESCE(next_attempt_at, due_at)) AS due_at FROM operator_events
          WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1)
          ORDER BY updated_at LIMIT $2`,
        [(2 * this.config.reconcileIntervalMs) / 1000, BATCH_SIZE],
      )) as Array<{ id: string; type: OperatorEventType; due_at: Date }>;
      return withTimeout(this.repair(rows), PASS_TIMEOUT_MS, 'reconciling operator events with Redis');
    });
  }

  private async repair(rows: Array<{ id: string; type: OperatorEventType; due_at: Date }>): Promise<number> {
    const missing: OperatorEventToEnqueue[] = [];
    let retried = 0;
    await Promise.all(
      rows.map(async (row) => {
        const job = await reviveJob(this.queue, operatorEventJobId(row.id));
        if (job === 'retried') retried++;
        if (job === 'missing') missing.push({ id: row.id, type: row.type, dueAt: row.due_at });
      }),
    );
    await enqueueOperatorEvents(this.queue, missing);
    return missing.length + retried;
  }
}
