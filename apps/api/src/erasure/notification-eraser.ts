import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { deleteNotifications, type NotificationSelection, type SqlQuery } from '@callbacks/persistence';
import { DELIVERY_QUEUE, removeDeliveryJobs, withTimeout } from '@callbacks/queue';

/** Rows per statement: each batch commits on its own, so a large erasure never holds many locks for long. */
const BATCH_SIZE = 1_000;
const REDIS_TIMEOUT_MS = 10_000;

export interface ErasedNotifications {
  notifications: number;
  attempts: number;
  idempotencyKeys: number;
  removedJobs: number;
}

/**
 * Deletes every notification of a partner or a case, with its attempts and the idempotency keys
 * pointing at it, batch by batch, and removes their queued jobs. A pending one is thereby cancelled:
 * its job is gone, and a job already taken by a worker finds no notification and sends nothing.
 * Each batch writes an audit line naming the notifications deleted (ids and counts, never a payload).
 */
@Injectable()
export class NotificationEraser {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('NotificationEraser');
  }

  async erase(selection: Exclude<NotificationSelection, 'expired'>, argument: string, audit: Record<string, unknown>): Promise<ErasedNotifications> {
    const query: SqlQuery = (sql, parameters) => this.dataSource.query(sql, parameters);
    const total: ErasedNotifications = { notifications: 0, attempts: 0, idempotencyKeys: 0, removedJobs: 0 };
    for (;;) {
      const batch = await deleteNotifications(query, selection, argument, BATCH_SIZE, { skipLocked: false });
      if (batch.notifications.length === 0) return total;
      const removedJobs = await withTimeout(
        removeDeliveryJobs(
          this.queue,
          batch.notifications.map((notification) => ({ notificationId: notification.id, round: notification.deliveryRound })),
        ),
        REDIS_TIMEOUT_MS,
        'removing erased notifications from the queue',
      );
      total.notifications += batch.notifications.length;
      total.attempts += batch.attempts;
      total.idempotencyKeys += batch.idempotencyKeys;
      total.removedJobs += removedJobs;
      this.logger.info(
        {
          audit: true,
          ...audit,
          notificationIds: batch.notifications.map((notification) => notification.id),
          deletedNotifications: batch.notifications.length,
          cancelledPending: batch.notifications.filter((notification) => notification.status === 'pending').length,
          deletedAttempts: batch.attempts,
          deletedIdempotencyKeys: batch.idempotencyKeys,
          removedJobs,
        },
        'erased notifications',
      );
    }
  }
}
