import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { DeliveryQueues, type DeliveryToEnqueue, enqueueDeliveries, withTimeout } from '@callbacks/queue';

const ENQUEUE_TIMEOUT_MS = 2_000;
/** Jobs per addBulk when many are scheduled at once (a bulk recovery, an intake group). */
const ENQUEUE_CHUNK = 1_000;

/**
 * Hands committed notifications to the queue. PostgreSQL already holds them, so when Redis is down
 * or slow the request still succeeds: the worker's reconciler enqueues them once Redis answers.
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
    await this.scheduleMany([delivery]);
  }

  async scheduleMany(deliveries: DeliveryToEnqueue[]): Promise<void> {
    for (let start = 0; start < deliveries.length; start += ENQUEUE_CHUNK) {
      const chunk = deliveries.slice(start, start + ENQUEUE_CHUNK);
      try {
        await withTimeout(enqueueDeliveries(this.queues, chunk), ENQUEUE_TIMEOUT_MS, 'enqueueing deliveries');
      } catch (error) {
        const notificationIds = chunk.map((delivery) => delivery.notificationId);
        this.logger.warn(
          { notificationId: notificationIds[0], notificationIds: notificationIds.slice(0, 20), count: chunk.length, err: error },
          'could not enqueue; the reconciler will pick the notifications up from PostgreSQL',
        );
        return;
      }
    }
  }
}
