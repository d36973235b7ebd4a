import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_LOCK_DURATION_MS, DELIVERY_QUEUE, type DeliveryJobData } from '@callbacks/queue';
import { DeliverNotification, type DeliveryResult } from './deliver-notification.use-case';

/**
 * Turns a delivery's result into BullMQ's terms: a retry moves the job to delayed (not counted as
 * a job attempt, so the schedule comes from PostgreSQL alone), a final failure fails the job at
 * once (it stays visible, and retryable, in Bull Board). Errors other than those throw, so BullMQ
 * retries the job with its backoff.
 */
@Processor(DELIVERY_QUEUE, { autorun: false, lockDuration: DELIVERY_LOCK_DURATION_MS })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliverNotification: DeliverNotification,
    private readonly logger: PinoLogger,
  ) {
    super();
    this.logger.setContext('DeliveryProcessor');
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    void this.worker.run();
  }

  async process(job: Job<DeliveryJobData>, token?: string): Promise<DeliveryResult> {
    const result = await this.deliverNotification.execute(job.data);
    if (result.kind === 'retry') {
      await job.log(`${result.summary}; retry in ${Math.round(result.delayMs / 1000)} s`);
      await job.moveToDelayed(Date.now() + result.delayMs, token);
      throw new DelayedError();
    }
    if (result.kind === 'failed') {
      await job.log(`${result.summary}; failed: ${result.reason}`);
      throw new UnrecoverableError(result.reason);
    }
    return result;
  }

  /** Infrastructure errors (BullMQ retries them with backoff) are logged here, not swallowed. */
  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliveryJobData> | undefined, error: Error): void {
    if (error instanceof UnrecoverableError) return;
    this.logger.error({ notificationId: job?.data.notificationId, jobAttempt: job?.attemptsMade, err: error }, 'delivery job errored; BullMQ will retry it');
  }
}
