import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DatabaseLock, OperatorEventRepository } from '@callbacks/persistence';
import {
  DELIVERY_QUEUE,
  enqueueOperatorEvents,
  operatorEventJobId,
  type OperatorEventToEnqueue,
  reviveJob,
  withTimeout,
} from '@callbacks/queue';
import type { PassContext, PeriodicPass } from '../passes/periodic-pass';

const BATCH_SIZE = 200;
const PASS_TIMEOUT_MS = 30_000;

/**
 * The operator events' share of "PostgreSQL is the source of truth": every RECONCILE_INTERVAL_MS
 * one worker gives each pending event that nothing touched for two intervals its job again when
 * the job is gone, finished or failed. Operator events are few, so one batch per pass is plenty.
 * Returns how many events got their job again.
 */
@Injectable()
export class OperatorEventReconciler implements PeriodicPass<number> {
  readonly name = 'operator-event reconciler';
  readonly interval = 'reconcileIntervalMs';
  readonly lock = { id: DatabaseLock.OperatorEventReconciler, scope: 'transaction' } as const;
  readonly runs = 'operatorEventReconcilerRuns';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: OperatorEventRepository,
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('OperatorEventReconciler');
  }

  /** Operator events exist only with OPERATOR_WEBHOOK_URL. */
  enabled(config: AppConfig): boolean {
    return config.operatorWebhook !== null;
  }

  async run({ db }: PassContext): Promise<number> {
    const quiet = await this.events.quietPending(2 * this.config.reconcileIntervalMs, BATCH_SIZE, db);
    const repaired = await withTimeout(this.repair(quiet), PASS_TIMEOUT_MS, 'reconciling operator events with Redis');
    if (repaired > 0) this.logger.warn({ repaired }, 'operator events re-enqueued');
    return repaired;
  }

  private async repair(events: OperatorEventToEnqueue[]): Promise<number> {
    const missing: OperatorEventToEnqueue[] = [];
    let retried = 0;
    await Promise.all(
      events.map(async (event) => {
        const revival = await reviveJob(this.queue, operatorEventJobId(event.id));
        if (revival === 'retried') retried++;
        if (revival === 'missing') missing.push(event);
      }),
    );
    await enqueueOperatorEvents(this.queue, missing);
    return missing.length + retried;
  }
}
