import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { CallbackRef, DeliveryLimits } from '@callbacks/contracts';
import { DeliveryRepository } from '@callbacks/persistence';
import { DeliveryQueues, jobFate } from '@callbacks/queue';
import { CallbackGuard, type HandOver } from './callback-guard';

/** The notification a delivery job id names (see deliveryJobId in @callbacks/queue). */
function notificationOf(jobId: string): string {
  return jobId.replace(/-r\d+$/, '');
}

/**
 * Wakes a parked delivery whose callback has handed it a slot: its job moves from delayed to the
 * front of its queue's wait list (or, when the callback's rate makes the slot start later, its
 * delay is set to that start) and, when it runs, finds its slot reserved. One wake per slot given
 * back, so a parked backlog costs work in proportion to what is sent, not to its size.
 *
 * A slot can be handed to a job in the moment between its parking (the admit script) and its move
 * to delayed; the waker then finds it still active and leaves it, and the parker, once the job is
 * delayed, sees the slot and wakes its own job (`settle`). A wake that is lost altogether (a worker
 * died in between) is found by the reconciler, which looks once a pass at each callback with
 * parked jobs (CallbackGuard.findLostWakes).
 */
@Injectable()
export class ParkedDeliveries {
  constructor(
    private readonly queues: DeliveryQueues,
    private readonly guard: CallbackGuard,
    private readonly deliveries: DeliveryRepository,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('ParkedDeliveries');
  }

  /** Fire and forget: a wake that cannot be made is found again by the reconciler. */
  wake(callback: CallbackRef, handedTo: HandOver | null, limits: DeliveryLimits): void {
    if (!handedTo) return;
    this.wakeNow(callback, handedTo, limits).catch((error: unknown) =>
      this.logger.warn({ jobId: handedTo.jobId, err: error }, 'could not wake a parked delivery; the reconciler wakes it'),
    );
  }

  /** Called by the parker once its job is delayed: wakes it if a slot was handed over meanwhile. */
  async settle(callback: CallbackRef, jobId: string, limits: DeliveryLimits): Promise<void> {
    const startAt = await this.guard.handedStart(callback, jobId);
    if (startAt !== null) await this.wakeNow(callback, { jobId, startAt }, limits);
  }

  /** Wakes a handed job (at its start), or, if it will never run, gives its slot to the next in line. */
  async wakeNow(callback: CallbackRef, { jobId, startAt }: HandOver, limits: DeliveryLimits): Promise<void> {
    // In any shard: a job parked before QUEUE_SHARDS changed is still in its callback's former shard.
    const { queue, state } = await this.queues.locateJob(callback.partnerId, callback.notificationTypeId, jobId);
    if (state === 'delayed') {
      const delayMs = startAt - Date.now();
      if (delayMs > 0) {
        const job = await queue.getJob(jobId);
        await job?.changeDelay(delayMs).catch(() => undefined); // woken by the other side of the race already
      } else if ((await this.guard.wakeToFront(queue, jobId)) === -4) {
        await queue
          .getJob(jobId)
          .then((job) => job?.promote())
          .catch(() => undefined);
      }
    } else if (jobFate(state) !== 'will_run') {
      // Finished, failed or erased while parked: its slot goes to the next in line, and its row, if
      // still pending, is no longer parked, so the reconciler's scan of overdue rows sees to it.
      const { handedTo } = await this.guard.release(callback, jobId, null, limits);
      await this.deliveries.unpark(notificationOf(jobId));
      this.wake(callback, handedTo, limits);
    }
  }
}
