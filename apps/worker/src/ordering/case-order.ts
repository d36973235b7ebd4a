import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DeliveryRepository, type HeldNotification } from '@callbacks/persistence';
import { deliveryJobId, DeliveryQueues, enqueueDeliveries, jobFate } from '@callbacks/queue';

/**
 * How long a held delivery sleeps if its wake never comes (the reconciler repairs lost wakes
 * sooner): PARK_TIMEOUT_MS with ±10 % jitter, like a parked one, so a held backlog does no periodic work.
 */
export function holdTimeoutMs(config: AppConfig): number {
  return Math.round(config.parkTimeoutMs * (0.9 + 0.2 * Math.random()));
}

/**
 * Case ordering (a callback's delivery.ordering "case"): a notification is not sent while the
 * previous one of its case is pending; it is held (its job delayed holdTimeoutMs, its row marked
 * waiting_for the predecessor) and woken when the predecessor ends, delivered or failed. Held
 * deliveries never poll: one wake per notification that ends.
 *
 * The hold and the wake cannot miss each other: the holder marks its row, delays its job, then looks
 * at the predecessor again (`settle`); the predecessor's worker records its end, then looks for the
 * row marked behind it and promotes its job (`wakeBehind`). Whichever looks second sees the other.
 * A wake lost with a worker or with Redis's data is made by the reconciler (`wakeLost`).
 */
@Injectable()
export class CaseOrder {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly queues: DeliveryQueues,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('CaseOrder');
  }

  /** The predecessor this notification must wait for (its row is then marked waiting), or null to go on. */
  async holdFor(notificationId: string): Promise<{ waitingFor: string; delayMs: number } | null> {
    const delayMs = holdTimeoutMs(this.config);
    const waitingFor = await this.deliveries.holdFor(notificationId, new Date(Date.now() + delayMs));
    return waitingFor ? { waitingFor, delayMs } : null;
  }

  /** Called by the holder once its job is delayed: if the predecessor ended meanwhile, the holder wakes its own job. */
  async settle(held: HeldNotification, predecessorId: string): Promise<void> {
    if (!(await this.deliveries.stillHeldBy(predecessorId))) await this.wake(held);
  }

  /** Fire and forget, after a notification ended: wakes the one held behind it. A wake that fails is left to the reconciler. */
  wakeBehind(notificationId: string): void {
    this.deliveries
      .heldBehind(notificationId)
      .then((held) => Promise.all(held.map((notification) => this.wake(notification))))
      .catch((error: unknown) =>
        this.logger.warn({ notificationId, err: error }, 'could not wake the delivery held behind a notification; the reconciler will'),
      );
  }

  /** Wakes held deliveries whose wake was lost: a delayed job is promoted, a lost one added again, due now. */
  async wakeLost(held: HeldNotification[]): Promise<void> {
    await Promise.all(held.map((notification) => this.wake(notification)));
  }

  private async wake(held: HeldNotification): Promise<void> {
    const jobId = deliveryJobId(held.notificationId, 0);
    // In any shard: a job held before QUEUE_SHARDS changed is still in its callback's former shard.
    const { queue, state } = await this.queues.locateJob(held.partnerId, held.notificationTypeId, jobId);
    if (state === 'delayed') {
      await queue
        .getJob(jobId)
        .then((job) => job?.promote())
        .catch(() => undefined); // promoted by someone else already
      return;
    }
    if (jobFate(state) === 'will_run') return; // waiting or running: it looks at its predecessor itself
    if (jobFate(state) === 'completed') await queue.remove(jobId);
    if (jobFate(state) === 'failed') {
      await (await queue.getJob(jobId))?.retry('failed');
      return;
    }
    await enqueueDeliveries(this.queues, [{ ...held, round: 0, dueAt: null }]);
  }
}
