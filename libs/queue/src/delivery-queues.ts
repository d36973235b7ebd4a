import type { Queue } from 'bullmq';
import { addDeliveryJobs, type DeliveryToEnqueue } from './delivery-queue';
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

  /** The queue that holds the jobs of one callback (partner + notification type). */
  forCallback(partnerId: string, notificationTypeId: number): Queue {
    return this.all[callbackShard(this.settings, partnerId, notificationTypeId).index];
  }
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
