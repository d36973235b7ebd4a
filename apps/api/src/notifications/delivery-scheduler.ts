import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { notificationTypeName } from '@callbacks/contracts';
import { DELIVERY_QUEUE, enqueueDeliveries, withTimeout } from '@callbacks/queue';

const ENQUEUE_TIMEOUT_MS = 2_000;

export interface ScheduledDelivery {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  round: number;
  test: boolean;
}

/**
 * Hands a committed notification to the queue. PostgreSQL already holds it, so when Redis is down
 * or slow the request still succeeds: the worker's reconciler enqueues it once Redis answers.
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

  async schedule(delivery: ScheduledDelivery): Promise<void> {
    try {
      await withTimeout(
        enqueueDeliveries(this.queue, [
          {
            notificationId: delivery.notificationId,
            partnerUniqueId: delivery.partnerId,
            notificationTypeId: delivery.notificationTypeId,
            notificationType: notificationTypeName(delivery.notificationTypeId),
            round: delivery.round,
            test: delivery.test,
          },
        ]),
        ENQUEUE_TIMEOUT_MS,
        'enqueueing the delivery',
      );
    } catch (error) {
      this.logger.warn({ notificationId: delivery.notificationId, err: error }, 'could not enqueue; the reconciler will pick the notification up from PostgreSQL');
    }
  }
}
