import { Injectable } from '@nestjs/common';
import type { CallbackRef } from '@callbacks/contracts';
import { DeliveryRepository } from '@callbacks/persistence';
import { CallbackLifecycle } from '../lifecycle/callback-lifecycle';

/**
 * The end of a delivery whose job crashed its workers too often (BullMQ failed it as stalled more
 * than DELIVERY_MAX_STALLED_COUNT times): its notification ends failed with worker_crash and an
 * attempt saying so, and the operator hears of it (notification.exhausted). Called by the processor
 * when BullMQ fails the job, and by the reconciler when it finds such a job.
 */
@Injectable()
export class CrashQuarantine {
  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly lifecycle: CallbackLifecycle,
  ) {}

  /** `attemptsMade`: the job's, as BullMQ counts them. Returns false when the notification had moved on (nothing changed). */
  async end(delivery: { notificationId: string; round: number; callback: CallbackRef }, attemptsMade: number): Promise<boolean> {
    const ended = await this.deliveries.quarantine(delivery.notificationId, delivery.round, Math.max(0, attemptsMade - 1));
    if (ended) {
      this.lifecycle.notificationFailed(delivery.callback, {
        notificationId: delivery.notificationId,
        statusReason: 'worker_crash',
        statusCode: null,
        error: 'worker_crash',
      });
    }
    return ended;
  }
}
