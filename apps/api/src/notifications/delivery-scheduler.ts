import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { DELIVERY_QUEUE, type DeliveryToEnqueue, enqueueDeliveries, withTimeout } from '@callbacks/queue';

const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * Hands committed notifications to the queue. PostgreSQL already holds them, so when Redis is down
 * or slow the request still succeeds: the worker's reconciler enqueues them once Redis answers.
 * This is the one place where a queue error is logged instead of thrown, and that is why.
 */
@Injectable()
export class DeliveryScheduler {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('DeliveryScheduler');
  }

  /** Committed notifications, handed over in one pipeline (addBulk). */
  async schedule(deliveries: DeliveryToEnqueue[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await withTimeout(enqueueDeliveries(this.queue, deliveries), ENQUEUE_TIMEOUT_MS, 'enqueueing the deliveries');
    } catch (error) {
      for (const { notificationId } of deliveries) {
        this.logger.warn({ notificationId, err: error }, 'could not enqueue; the reconciler will pick the notification up from PostgreSQL');
      }
    }
  }
}
