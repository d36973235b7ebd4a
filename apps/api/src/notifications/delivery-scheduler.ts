import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { DeliveryQueues, type DeliveryToEnqueue, enqueueDeliveries, withTimeout } from '@callbacks/queue';

const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * Hands a committed notification to the queue. PostgreSQL already holds it, so when Redis is down
 * or slow the request still succeeds: the worker's reconciler enqueues it once Redis answers.
 * This is the one place where a queue error is logged instead of thrown, and that is why.
 */
@Injectable()
export class DeliveryScheduler {
  constructor(
    private readonly queues: DeliveryQueues,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('DeliveryScheduler');
  }

  async schedule(delivery: DeliveryToEnqueue): Promise<void> {
    try {
      await withTimeout(enqueueDeliveries(this.queues, [delivery]), ENQUEUE_TIMEOUT_MS, 'enqueueing the delivery');
    } catch (error) {
      this.logger.warn({ notificationId: delivery.notificationId, err: error }, 'could not enqueue; the reconciler will pick the notification up from PostgreSQL');
    }
  }
}
