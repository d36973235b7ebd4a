import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { CallbackRef } from '@callbacks/contracts';
import { DeliveryQueues, jobFate } from '@callbacks/queue';
import { CallbackGuard } from './callback-guard';

/**
 * Wakes a parked delivery whose callback has handed it a slot: its job moves from delayed to wait
 * and, when it runs, finds its lease in place. One promote per slot given back, so a parked backlog
 * costs work in proportion to what is sent, not to its size.
 *
 * A slot can be handed to a job in the moment between its parking (the admit script) and its move
 * to delayed; the waker then finds it still active and leaves it, and the parker, once the job is
 * delayed, sees the lease and wakes its own job (`settle`).
 */
@Injectable()
export class ParkedDeliveries {
  constructor(
    private readonly queues: DeliveryQueues,
    private readonly guard: CallbackGuard,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('ParkedDeliveries');
  }

  /** Fire and forget: a wake that cannot be made leaves the job to its park timeout. */
  wake(callback: CallbackRef, jobId: string | null): void {
    if (!jobId) return;
    this.promote(callback, jobId).catch((error: unknown) =>
      this.logger.warn({ jobId, err: error }, 'could not wake a parked delivery; it wakes at its park timeout'),
    );
  }

  /** Called by the parker once its job is delayed: wakes it if a slot was handed over meanwhile. */
  async settle(callback: CallbackRef, jobId: string): Promise<void> {
    if (await this.guard.holdsLease(callback, jobId)) await this.promote(callback, jobId);
  }

  private async promote(callback: CallbackRef, jobId: string): Promise<void> {
    // In any shard: a job parked before QUEUE_SHARDS changed is still in its callback's former shard.
    const { queue, state } = await this.queues.locateJob(callback.partnerId, callback.notificationTypeId, jobId);
    if (state === 'delayed') {
      await queue
        .getJob(jobId)
        .then((job) => job?.promote())
        .catch(() => undefined); // promoted by the other side of the race already
    } else if (jobFate(state) !== 'will_run') {
      // Finished, failed or erased while parked: its slot goes to the next in line.
      const { handedTo } = await this.guard.release(callback, jobId, null);
      this.wake(callback, handedTo);
    }
  }
}
