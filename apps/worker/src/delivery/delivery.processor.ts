import { type BeforeApplicationShutdown, Inject, type OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { RedisErrorReporter } from '@callbacks/observability';
import {
  DELIVERY_LOCK_DURATION_MS,
  DELIVERY_MAX_STALLED_COUNT,
  DELIVERY_QUEUE,
  type DeliveryJobData,
  deliveryLockOptions,
  isOperatorEventJob,
  type OperatorEventJobData,
  STALLED_TOO_OFTEN,
  withTimeout,
} from '@callbacks/queue';
import { ParkedDeliveries } from '../isolation/parked-deliveries';
import { CaseOrder } from '../ordering/case-order';
import { DeliverOperatorEvent } from '../lifecycle/deliver-operator-event.use-case';
import { CrashQuarantine } from './crash-quarantine';
import { DeliverNotification, type DeliveryJob } from './deliver-notification.use-case';
import type { DeliveryResult } from './delivery-decision';

/** The job in the code's names: the job data's wire names (partnerUniqueId, stored in Redis by every release) end here. */
function deliveryJob(job: Job<DeliveryJobData>): DeliveryJob {
  return {
    id: job.id!,
    notificationId: job.data.notificationId,
    round: job.data.round,
    callback: { partnerId: job.data.partnerUniqueId, notificationTypeId: job.data.notificationTypeId },
    attemptsMade: job.attemptsMade,
  };
}

/** Every delivery worker's options but the lock's (see deliveryProcessors, which applies DELIVERY_LOCK_MS). */
export const DELIVERY_WORKER_OPTIONS = { autorun: false, maxStalledCount: DELIVERY_MAX_STALLED_COUNT };

/** Time beyond one attempt's deadline for recording it before shutdown gives up waiting. */
export const SHUTDOWN_MARGIN_MS = 10_000;

/**
 * Turns a delivery's result into BullMQ's terms: a retry moves the job to delayed (not counted as
 * a job attempt, so the schedule comes from PostgreSQL alone), a final failure fails the job at
 * once (it stays visible, and retryable, in Bull Board). Errors other than those throw, so BullMQ
 * retries the job with its backoff.
 */
@Processor(DELIVERY_QUEUE, { ...DELIVERY_WORKER_OPTIONS, ...deliveryLockOptions(DELIVERY_LOCK_DURATION_MS) })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliverNotification: DeliverNotification,
    private readonly parked: ParkedDeliveries,
    private readonly caseOrder: CaseOrder,
    private readonly deliverOperatorEvent: DeliverOperatorEvent,
    private readonly quarantine: CrashQuarantine,
    private readonly logger: PinoLogger,
    private readonly redisErrors: RedisErrorReporter,
  ) {
    super();
    this.logger.setContext('DeliveryProcessor');
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    void this.worker.run();
  }

  /**
   * SIGTERM: stop taking jobs and let the ones in flight finish (each ends within
   * DELIVERY_TIMEOUT_MS). worker.close() has no deadline of its own, so past this one the worker
   * closes by force: unfinished jobs keep their lock until it expires, then another worker takes them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const graceMs = this.config.deliveryTimeoutMs + SHUTDOWN_MARGIN_MS;
    const closed = await withTimeout(this.worker.close(), graceMs, 'closing the worker').then(
      () => true,
      () => false,
    );
    if (!closed) {
      this.logger.warn({ graceMs }, 'deliveries still in flight at the shutdown deadline; closing by force');
      await this.worker.close(true);
    }
  }

  async process(job: Job<DeliveryJobData> | Job<OperatorEventJobData>, token?: string): Promise<DeliveryResult> {
    if (isOperatorEventJob(job)) return this.settle(job, await this.deliverOperatorEvent.execute(job.data), token);
    const delivery = deliveryJob(job);
    const result = await this.deliverNotification.execute(delivery);
    if (result.kind === 'parked') {
      await job.moveToDelayed(Date.now() + result.delayMs, token);
      if (result.settle) await this.parked.settle(delivery.callback, delivery.id, result.limits);
      throw new DelayedError();
    }
    if (result.kind === 'held') {
      await this.jobLog(job, `held behind ${result.waitingFor}, the previous notification of its case`);
      await job.moveToDelayed(Date.now() + result.delayMs, token);
      const { notificationId, partnerId, notificationTypeId } = { ...delivery, ...delivery.callback };
      await this.caseOrder.settle({ notificationId, partnerId, notificationTypeId, test: job.data.test }, result.waitingFor);
      throw new DelayedError();
    }
    return this.settle(job, result, token);
  }

  /** A retry waits as a delayed job; a final failure fails the job at once (partner deliveries and operator events alike). */
  private async settle(job: Job, result: DeliveryResult, token?: string): Promise<DeliveryResult> {
    if (result.kind === 'retry') {
      await this.jobLog(job, `${result.summary}; retry in ${(result.delayMs / 1000).toFixed(1)} s`);
      await job.moveToDelayed(Date.now() + result.delayMs, token);
      throw new DelayedError();
    }
    if (result.kind === 'failed') {
      // Recorded already: nothing after this point may throw an error that BullMQ would retry.
      await this.jobLog(job, `${result.summary}; failed: ${result.reason}`);
      throw new UnrecoverableError(result.reason);
    }
    return result;
  }

  /**
   * Infrastructure errors (BullMQ retries them with backoff) are logged here, not swallowed. A job
   * whose workers died under it too often is failed by BullMQ without running: its notification
   * ends failed (worker_crash) so it never takes another worker down unless someone asks for it.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<DeliveryJobData> | undefined, error: Error): Promise<void> {
    if (job && error.message === STALLED_TOO_OFTEN) {
      const ended = await this.quarantine.end(deliveryJob(job), job.attemptsMade).catch(() => false);
      this.logger.error(
        { notificationId: job.data.notificationId, stalls: job.stalledCounter, ended },
        'delivery crashed its workers repeatedly; failed with worker_crash',
      );
      return;
    }
    if (error instanceof UnrecoverableError) return;
    this.logger.error(
      { notificationId: job?.data.notificationId, jobAttempt: job?.attemptsMade, err: error },
      'delivery job errored; BullMQ will retry it',
    );
  }

  /** The job log is for people reading Bull Board; losing a line must not change the delivery. */
  private async jobLog(job: Job, line: string): Promise<void> {
    await job.log(line).catch(() => undefined);
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.redisErrors.report(error);
  }
}
