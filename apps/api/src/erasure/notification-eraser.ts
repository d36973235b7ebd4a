import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type DeletedNotification, type NotificationSelection, NotificationRepository } from '@callbacks/persistence';
import { DeliveryQueues, removeDeliveryJobs, withTimeout } from '@callbacks/queue';

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
 * pointing at it, batch by batch, and removes their queued jobs (before the rows, inside the batch's
 * transaction: an erasure cut short by Redis or PostgreSQL leaves whole batches, and its repetition
 * picks up where it stopped). A pending one is thereby cancelled:
 * its job is gone, and a job already taken by a worker finds no notification and sends nothing.
 * Each batch writes an audit line naming the notifications deleted (ids and counts, never a payload).
 */
@Injectable()
export class NotificationEraser {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly queues: DeliveryQueues,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('NotificationEraser');
  }

  async erase(
    selection: Exclude<NotificationSelection, 'expired'>,
    argument: string,
    audit: Record<string, unknown>,
  ): Promise<ErasedNotifications> {
    const total: ErasedNotifications = { notifications: 0, attempts: 0, idempotencyKeys: 0, removedJobs: 0 };
    for (;;) {
      // One transaction per batch: its rows are locked, their jobs removed, then the rows deleted. If
      // Redis cannot be reached, nothing of the batch is deleted, and a repeated erasure starts there.
      let removedJobs = 0;
      const batch = await this.notifications.deleteBatchAfter(selection, argument, BATCH_SIZE, async (notifications) => {
        removedJobs = await this.removeJobs(notifications);
      });
      if (batch.notifications.length === 0) return total;
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

  /** Removes the queued jobs of `notifications`, from every shard (see removeDeliveryJobs); how many were removed. */
  private removeJobs(notifications: DeletedNotification[]): Promise<number> {
    return withTimeout(
      removeDeliveryJobs(
        this.queues,
        notifications.map((notification) => ({ notificationId: notification.id, round: notification.deliveryRound })),
      ),
      REDIS_TIMEOUT_MS,
      'removing erased notifications from the queue',
    );
  }
}
