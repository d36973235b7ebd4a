import type { JobState, Queue } from 'bullmq';
import { addDeliveryJobs, deliveryJobId, type DeliveryToEnqueue } from './delivery-queue';
import { callbackShard, type QueueShard, queueShards, type ShardSettings } from './queue-shards';

/**
 * Every delivery queue of the deployment (one per shard, QUEUE_SHARDS of them), and which one
 * holds a callback's jobs. Inject this rather than one queue: with shards, there is no "the" queue.
 */
export class DeliveryQueues {
  readonly shards: readonly QueueShard[];

  constructor(
    private readonly settings: ShardSettings,
    /** In shard order. */
    readonly all: readonly Queue[],
  ) {
    this.shards = queueShards(settings);
    if (all.length !== this.shards.length) throw new Error(`expected ${this.shards.length} delivery queues, got ${all.length}`);
  }

  /** The queue that new jobs of one callback (partner + notification type) go to. */
  forCallback(partnerId: string, notificationTypeId: number): Queue {
    return this.all[callbackShard(this.settings, partnerId, notificationTypeId).index];
  }

  /**
   * Where a callback's job is, and its state. A job stays in the queue it was added to: after
   * QUEUE_SHARDS changed, a callback's older jobs are in the shard it had then. So the callback's
   * shard is asked first (one lookup for nearly every job), then the others. A job found nowhere
   * is `unknown`, in the callback's shard (where it would be added again).
   */
  async locateJob(partnerId: string, notificationTypeId: number, jobId: string): Promise<{ queue: Queue; state: JobState | 'unknown' }> {
    const home = this.forCallback(partnerId, notificationTypeId);
    const state = await home.getJobState(jobId);
    if (state !== 'unknown') return { queue: home, state };
    for (const queue of this.all) {
      if (queue === home) continue;
      const elsewhere = await queue.getJobState(jobId);
      if (elsewhere !== 'unknown') return { queue, state: elsewhere };
    }
    return { queue: home, state };
  }
}

/** Job removals sent to Redis at once, at most. */
const JOB_REMOVALS_IN_PARALLEL = 100;

/**
 * The one way to remove delivery jobs: every round's job of each notification (older rounds' jobs
 * linger as completed or failed), for notifications that were erased or ended without their jobs,
 * from every shard (a job stays in the shard its callback had when it was added, see locateJob).
 * A job being processed right now is locked and stays; its worker finds the notification gone or
 * finished and sends nothing. Returns how many jobs were removed (or were not there), not locked.
 */
export async function removeDeliveryJobs(
  queues: DeliveryQueues,
  notifications: Array<{ notificationId: string; round: number }>,
): Promise<number> {
  const jobIds = notifications.flatMap(({ notificationId, round }) =>
    Array.from({ length: round + 1 }, (_, r) => deliveryJobId(notificationId, r)),
  );
  const perBatch = Math.max(1, Math.floor(JOB_REMOVALS_IN_PARALLEL / queues.all.length));
  let removed = 0;
  for (let start = 0; start < jobIds.length; start += perBatch) {
    const gone = await Promise.all(
      jobIds
        .slice(start, start + perBatch)
        .map(async (jobId) => (await Promise.all(queues.all.map((queue) => queue.remove(jobId)))).every((code) => code === 1)),
    );
    removed += gone.filter(Boolean).length;
  }
  return removed;
}

/**
 * Hands deliveries to their callbacks' queues: one pipeline per shard, the shards in parallel.
 * Adding a job that exists already changes nothing. The one way to enqueue a delivery.
 */
export async function enqueueDeliveries(queues: DeliveryQueues, deliveries: DeliveryToEnqueue[], now = Date.now()): Promise<void> {
  const byQueue = new Map<Queue, DeliveryToEnqueue[]>();
  for (const delivery of deliveries) {
    const queue = queues.forCallback(delivery.partnerId, delivery.notificationTypeId);
    const batch = byQueue.get(queue);
    if (batch) batch.push(delivery);
    else byQueue.set(queue, [delivery]);
  }
  await Promise.all([...byQueue].map(([queue, batch]) => addDeliveryJobs(queue, batch, now)));
}
